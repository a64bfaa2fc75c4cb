package dev.eventscan.bench;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One event per transaction; each writer appends to its own stream with an exact expectation. The
 * limit and the peers run with the same number of writers, each with its own connection and stream.
 */
final class AppendSingleScenario extends RatioScenario {
  private final int writers;
  private final Duration runTime;

  AppendSingleScenario(int writers, Duration runTime) {
    this.writers = writers;
    this.runTime = runTime;
  }

  @Override
  public String name() {
    return "append-single-" + writers + "w";
  }

  @Override
  boolean reportsLatency() {
    return true;
  }

  @Override
  Measurement runOurs(BenchmarkDatabase database) throws Exception {
    return appendSingles(database.store(), writers, runTime);
  }

  /** {@code writers} threads, each appending one event at a time to a stream of its own. */
  static Measurement appendSingles(EventStore store, int writers, Duration runTime)
      throws Exception {
    return Throughput.measure(
        writers,
        runTime,
        thread -> {
          String streamId = "bench-" + UUID.randomUUID();
          return version -> {
            store.append(streamId, ExpectedVersion.exactly(version), Payloads.event());
            return 1;
          };
        });
  }

  @Override
  Measurement runLimit(BenchmarkDatabase database) throws Exception {
    return Throughput.measure(
        writers, runTime, thread -> new LimitWriter(database.limit().getConnection()));
  }

  @Override
  Map<String, Contender> peers(BenchmarkDatabase database) throws Exception {
    Map<String, Contender> peers = new LinkedHashMap<>();
    peers.put("uncoalesced", this::runUncoalesced);
    peers.put("axon", this::runAxon);
    if (database.messageDb().isPresent()) {
      peers.put("messagedb", this::runMessageDb);
    }
    return peers;
  }

  /** Ours with coalesced commits off: every append its own transaction, as before issue 12. */
  private Measurement runUncoalesced(BenchmarkDatabase database) throws Exception {
    return appendSingles(database.uncoalescedStore(), writers, runTime);
  }

  /** {@code appendEvents} of one event in its own transaction, sequence numbers from 0. */
  private Measurement runAxon(BenchmarkDatabase database) throws Exception {
    AxonPeer axon = database.axon();
    return Throughput.measure(
        writers,
        runTime,
        thread -> {
          String aggregateId = "bench-" + UUID.randomUUID();
          return sequence -> {
            axon.append(List.of(AxonPeer.event(aggregateId, sequence)));
            return 1;
          };
        });
  }

  /**
   * {@code write_message} with an expected version, auto-committed. Every stream is in the category
   * {@code bench}, as one entity type's streams are: Message DB's writers lock that category.
   */
  private Measurement runMessageDb(BenchmarkDatabase database) throws Exception {
    MessageDbPeer messageDb = database.messageDb().orElseThrow();
    return Throughput.measure(
        writers,
        runTime,
        thread -> {
          Connection connection = messageDb.connection();
          PreparedStatement write = MessageDbPeer.prepareWrite(connection);
          String streamName = "bench-" + UUID.randomUUID();
          return new Throughput.Worker() {
            @Override
            public int runOnce(long position) throws Exception {
              MessageDbPeer.write(write, streamName, position);
              return 1;
            }

            @Override
            public void close() throws java.sql.SQLException {
              connection.close();
            }
          };
        });
  }

  /** A plain INSERT per event, auto-committed: one statement, one transaction. */
  private static final class LimitWriter implements Throughput.Worker {
    private final String streamId = "limit-" + UUID.randomUUID();
    private final Connection connection;
    private final PreparedStatement insert;

    LimitWriter(Connection connection) throws java.sql.SQLException {
      this.connection = connection;
      this.insert = connection.prepareStatement(Payloads.LIMIT_INSERT);
    }

    @Override
    public int runOnce(long version) throws Exception {
      Payloads.bindLimitRow(insert, streamId, version + 1);
      insert.executeUpdate();
      return 1;
    }

    @Override
    public void close() throws java.sql.SQLException {
      connection.close();
    }
  }
}
