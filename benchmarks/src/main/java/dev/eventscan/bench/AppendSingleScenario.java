package dev.eventscan.bench;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.UUID;

/** One event per transaction; each writer appends to its own stream with an exact expectation. */
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
  double runOurs(BenchmarkDatabase database) throws Exception {
    EventStore store = database.store();
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
  double runLimit(BenchmarkDatabase database) throws Exception {
    return Throughput.measure(
        writers, runTime, thread -> new LimitWriter(database.limit().getConnection()));
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
