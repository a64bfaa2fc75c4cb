package dev.eventscan.bench;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.axonframework.eventhandling.DomainEventMessage;

/** 100 events per transaction, one writer, one stream. */
final class AppendBatchScenario extends RatioScenario {
  static final int BATCH = 100;
  private final Duration runTime;

  AppendBatchScenario(Duration runTime) {
    this.runTime = runTime;
  }

  @Override
  public String name() {
    return "append-batch-" + BATCH;
  }

  @Override
  Measurement runOurs(BenchmarkDatabase database) throws Exception {
    EventStore store = database.store();
    return Throughput.measure(
        1,
        runTime,
        thread -> {
          String streamId = "batch-" + UUID.randomUUID();
          return iteration -> {
            List<EventData> batch = new ArrayList<>(BATCH);
            for (int i = 0; i < BATCH; i++) {
              batch.add(Payloads.event());
            }
            store.append(streamId, ExpectedVersion.exactly(iteration * BATCH), batch);
            return BATCH;
          };
        });
  }

  @Override
  Measurement runLimit(BenchmarkDatabase database) throws Exception {
    return Throughput.measure(
        1, runTime, thread -> new LimitBatchWriter(database.limit().getConnection()));
  }

  @Override
  Map<String, Contender> peers(BenchmarkDatabase database) throws Exception {
    Map<String, Contender> peers = new LinkedHashMap<>();
    peers.put("axon", this::runAxon);
    if (database.messageDb().isPresent()) {
      peers.put("messagedb", this::runMessageDb);
    }
    return peers;
  }

  /** One {@code appendEvents} of 100 events: Axon's JDBC batch, one transaction. */
  private Measurement runAxon(BenchmarkDatabase database) throws Exception {
    AxonPeer axon = database.axon();
    return Throughput.measure(
        1,
        runTime,
        thread -> {
          String aggregateId = "batch-" + UUID.randomUUID();
          return iteration -> {
            List<DomainEventMessage<?>> batch = new ArrayList<>(BATCH);
            for (int i = 0; i < BATCH; i++) {
              batch.add(AxonPeer.event(aggregateId, iteration * BATCH + i));
            }
            axon.append(batch);
            return BATCH;
          };
        });
  }

  /**
   * 100 {@code write_message} calls in one transaction: Message DB writes one message a call (its
   * clients' batch write does the same).
   */
  private Measurement runMessageDb(BenchmarkDatabase database) throws Exception {
    MessageDbPeer messageDb = database.messageDb().orElseThrow();
    return Throughput.measure(
        1,
        runTime,
        thread -> {
          Connection connection = messageDb.connection();
          connection.setAutoCommit(false);
          PreparedStatement write = MessageDbPeer.prepareWrite(connection);
          String streamName = "batch-" + UUID.randomUUID();
          return new Throughput.Worker() {
            @Override
            public int runOnce(long iteration) throws Exception {
              for (int i = 0; i < BATCH; i++) {
                MessageDbPeer.write(write, streamName, iteration * BATCH + i);
              }
              connection.commit();
              return BATCH;
            }

            @Override
            public void close() throws java.sql.SQLException {
              connection.setAutoCommit(true);
              connection.close();
            }
          };
        });
  }

  /** A JDBC batch of 100 plain INSERTs (rewritten by pgjdbc into multi-row INSERTs), committed. */
  private static final class LimitBatchWriter implements Throughput.Worker {
    private final String streamId = "limit-" + UUID.randomUUID();
    private final Connection connection;
    private final PreparedStatement insert;

    LimitBatchWriter(Connection connection) throws java.sql.SQLException {
      this.connection = connection;
      connection.setAutoCommit(false);
      this.insert = connection.prepareStatement(Payloads.LIMIT_INSERT);
    }

    @Override
    public int runOnce(long iteration) throws Exception {
      for (int i = 1; i <= BATCH; i++) {
        Payloads.bindLimitRow(insert, streamId, iteration * BATCH + i);
        insert.addBatch();
      }
      insert.executeBatch();
      connection.commit();
      return BATCH;
    }

    @Override
    public void close() throws java.sql.SQLException {
      connection.setAutoCommit(true);
      connection.close();
    }
  }
}
