package dev.eventscan.bench;

import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.scan.ScanModule;
import dev.eventscan.scan.process.ProcessSettings;
import dev.eventscan.scan.scanner.SimulatedScanner;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * 1,000 scans through the whole pipeline (aggregate, process manager, read-model projection),
 * simulated scanner at zero latency and no failures: scans/s and events/s, and events/s as a ratio
 * of the library's own batched-append rate measured in the same run.
 */
final class ScanPipelineScenario implements Scenario {
  private static final int SCANS = 1_000;

  /**
   * Scans run through first, untimed, as every other scenario warms up: without it the timed run
   * paid for the JIT compiling the pipeline (the compiler threads were the JVM's largest CPU user).
   */
  private static final int WARM_UP = 300;

  private static final int CLIENTS = 8;

  @Override
  public String name() {
    return "scan-pipeline";
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    double batchedLimit = batchedAppendRate(database);
    long eventsBefore;
    try (ScanModule module =
        ScanModule.start(
            database.store(),
            new ScanModule.Settings(
                "scan",
                Map.of("simulated", new SimulatedScanner(1, Duration.ZERO, 0)),
                "simulated",
                3,
                new ProcessSettings(
                    8, Duration.ofSeconds(30), Duration.ofMillis(10), Duration.ofMillis(100)),
                Duration.ofMillis(100)),
            Clock.systemUTC())) {
      requestConcurrently(module, WARM_UP, "warmup");
      awaitCompleted(database, WARM_UP);
      database.analyze();
      StatementStats.reset(database.ours());
      eventsBefore = database.store().headPosition().eventId();
      long commitsBefore = commits(database);
      Optional<CpuMeter> cpu = CpuMeter.of(database.ours());
      Optional<CpuMeter.Reading> cpuBefore = cpu.map(CpuMeter::read);
      long start = System.nanoTime();
      requestConcurrently(module, SCANS, "pipeline");
      awaitCompleted(database, WARM_UP + SCANS);
      double seconds = (System.nanoTime() - start) / 1e9;
      long events = database.store().headPosition().eventId() - eventsBefore;
      double eventsPerSecond = events / seconds;
      System.out.printf(
          Locale.ROOT,
          "# %s: %.1f commits per scan (pg_stat_database)%n",
          name(),
          (commits(database) - commitsBefore) / (double) SCANS);
      if (cpu.isPresent()) {
        CpuMeter.Reading used = cpu.get().read().minus(cpuBefore.orElseThrow());
        System.out.printf(
            Locale.ROOT,
            "# %s: CPU per scan %.1f ms (JVM %.1f, PostgreSQL %.1f)%n",
            name(),
            (used.jvmSeconds() + used.postgresSeconds()) * 1000 / SCANS,
            used.jvmSeconds() * 1000 / SCANS,
            used.postgresSeconds() * 1000 / SCANS);
      }
      StatementStats.print(database.ours(), name(), "scan", SCANS);
      printSteps(database);
      System.out.printf(
          Locale.ROOT,
          "# %s: %d scans, %d events in %.1f s; batched-append limit %.0f events/s%n",
          name(),
          SCANS,
          events,
          seconds,
          batchedLimit);
      return String.format(
          Locale.ROOT,
          "scans_per_s=%.1f events_per_s=%.0f ratio=%.3f",
          SCANS / seconds,
          eventsPerSecond,
          eventsPerSecond / batchedLimit);
    }
  }

  /**
   * The requests come from {@link #CLIENTS} threads, as from that many HTTP clients: one thread
   * would measure one append's latency 1,000 times, a bound the pipeline itself does not have.
   */
  private static void requestConcurrently(ScanModule module, int scans, String prefix)
      throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      List<Future<String>> requests = new ArrayList<>(scans);
      for (int i = 0; i < scans; i++) {
        String target = prefix + i + ".example";
        requests.add(clients.submit(() -> module.requestScan(target, null, null)));
      }
      for (Future<String> request : requests) {
        request.get();
      }
    } finally {
      clients.shutdown();
    }
  }

  /**
   * Every 20 ms: at most that late on a run of seconds. While scans are unfinished it counts the
   * process manager's small table of them, and only then the summaries: counting the summaries
   * every time cost PostgreSQL 0.15-0.3 ms a scan, which is counted per scan.
   */
  private static void awaitCompleted(BenchmarkDatabase database, long scans) throws Exception {
    while (count(database, "SELECT count(*) FROM scan.scan_in_flight") > 0
        || count(database, "SELECT count(*) FROM scan.scan_summaries WHERE status = 'COMPLETED'")
            < scans) {
      Thread.sleep(20);
    }
  }

  private static long count(BenchmarkDatabase database, String query) throws Exception {
    try (java.sql.Connection c = database.ours().getConnection();
        java.sql.Statement s = c.createStatement();
        java.sql.ResultSet r = s.executeQuery(query)) {
      r.next();
      return r.getLong(1);
    }
  }

  private static long commits(BenchmarkDatabase database) throws Exception {
    try (java.sql.Connection c = database.ours().getConnection();
        java.sql.Statement s = c.createStatement()) {
      s.execute("SELECT pg_stat_clear_snapshot()");
      try (java.sql.ResultSet r =
          s.executeQuery(
              "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  private static void printSteps(BenchmarkDatabase database) throws Exception {
    try (java.sql.Connection c = database.ours().getConnection();
        java.sql.Statement s = c.createStatement();
        java.sql.ResultSet r =
            s.executeQuery(
                """
                WITH e AS (
                  SELECT stream_id, type, recorded_at, transaction_id,
                         lag(type) OVER w AS prev, lag(recorded_at) OVER w AS prev_at
                    FROM event_store.events WHERE stream_id LIKE 'scan-%' WINDOW w AS (PARTITION BY stream_id ORDER BY stream_version))
                SELECT prev || ' -> ' || type, count(*),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM recorded_at - prev_at) * 1000),
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM recorded_at - prev_at) * 1000)
                  FROM e WHERE prev IS NOT NULL GROUP BY 1 ORDER BY 2 DESC
                """)) {
      while (r.next()) {
        System.out.printf(
            Locale.ROOT,
            "#   %-55s %6d p50 %7.1f ms p90 %7.1f ms%n",
            r.getString(1),
            r.getLong(2),
            r.getDouble(3),
            r.getDouble(4));
      }
    }
  }

  /** The library's batched appends (100 events a call), for 5 s: the limit the pipeline uses. */
  private static double batchedAppendRate(BenchmarkDatabase database) throws Exception {
    return Throughput.measure(
            1,
            Duration.ofSeconds(5),
            thread -> {
              String streamId = "limit-" + UUID.randomUUID();
              return iteration -> {
                List<EventData> batch = new ArrayList<>(100);
                for (int i = 0; i < 100; i++) {
                  batch.add(Payloads.event());
                }
                database.store().append(streamId, ExpectedVersion.exactly(iteration * 100), batch);
                return 100;
              };
            })
        .perSecond();
  }
}
