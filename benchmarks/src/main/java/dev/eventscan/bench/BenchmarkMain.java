package dev.eventscan.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Runs the scenarios on one embedded PostgreSQL 17 with durable commits (fsync and
 * synchronous_commit on), three interleaved runs each after one warm-up, and prints one line per
 * scenario: {@code BENCH <scenario> ours=<x> limit=<y> ratio=<ours/limit>} (medians).
 */
public final class BenchmarkMain {
  /** Seconds of one timed run; {@code -Dbench.seconds=1} for quick checks while developing. */
  static final Duration RUN_TIME = Duration.ofSeconds(Long.getLong("bench.seconds", 5));

  private static final Map<String, Supplier<Scenario>> SCENARIOS = new LinkedHashMap<>();

  static {
    register(() -> new AppendSingleScenario(1, RUN_TIME));
    register(() -> new AppendSingleScenario(8, RUN_TIME));
    register(() -> new AppendSingleScenario(16, RUN_TIME));
    register(() -> new AppendSingleScenario(32, RUN_TIME));
    register(() -> new AppendBatchScenario(RUN_TIME));
    register(() -> new AppendBreakdownScenario(1, RUN_TIME));
    register(() -> new AppendBreakdownScenario(8, RUN_TIME));
    register(ReadAllScenario::new);
    register(OutOfOrderCommitScenario::new);
    register(SubscriptionCatchUpScenario::new);
    register(SubscriptionLatencyScenario::new);
    register(AggregateLoadScenario::new);
    register(ScanPipelineScenario::new);
    register(HttpCreateScanScenario::new);
    register(ScanClusterScenario::new);
    SseFanoutScenario.all().forEach(scenario -> SCENARIOS.put(scenario.name(), () -> scenario));
    register(ScanLiveFirstEventScenario::new);
    register(StartupScenario::new);
    register(SimulatorMaxRateScenario::new);
  }

  private static void register(Supplier<Scenario> scenario) {
    SCENARIOS.put(scenario.get().name(), scenario);
  }

  private BenchmarkMain() {}

  public static void main(String[] args) throws Exception {
    List<String> selected =
        args.length == 0 ? new ArrayList<>(SCENARIOS.keySet()) : Arrays.asList(args);
    for (String name : selected) {
      if (!SCENARIOS.containsKey(name)) {
        System.err.println("unknown scenario '" + name + "'; known: " + SCENARIOS.keySet());
        System.exit(2);
      }
    }
    Path dataDirectory = Path.of("benchmarks", "target", "pgdata");
    deleteRecursively(dataDirectory);
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
    if (StatementStats.enabled()) {
      builder.setServerConfig("shared_preload_libraries", "pg_stat_statements");
    }
    // -Dbench.serverConfig=name=value;... for profiling, e.g. auto_explain's settings.
    for (String setting : System.getProperty("bench.serverConfig", "").split(";")) {
      if (setting.contains("=")) {
        String[] nameValue = setting.split("=", 2);
        builder.setServerConfig(nameValue[0].strip(), nameValue[1].strip());
      }
    }
    try (EmbeddedPostgres postgres =
        builder
            .setDataDirectory(dataDirectory)
            .setCleanDataDirectory(true)
            .setServerConfig("fsync", "on")
            // -Dbench.synchronousCommit=off shows the CPU and round-trip costs a flush hides.
            .setServerConfig(
                "synchronous_commit", System.getProperty("bench.synchronousCommit", "on"))
            .setServerConfig("full_page_writes", "on")
            .setServerConfig("shared_buffers", "512MB")
            .setServerConfig("max_connections", "200")
            .start()) {
      printMachine(postgres);
      int number = 0;
      for (String name : selected) {
        Scenario scenario = SCENARIOS.get(name).get();
        String database = "bench_" + (++number);
        try (Connection c = postgres.getPostgresDatabase().getConnection();
            Statement s = c.createStatement()) {
          s.execute("CREATE DATABASE " + database);
        }
        try (BenchmarkDatabase db =
            new BenchmarkDatabase(postgres.getJdbcUrl("postgres", database))) {
          run(scenario, db);
        }
      }
    }
  }

  private static void run(Scenario scenario, BenchmarkDatabase database) throws Exception {
    scenario.prepare(database);
    System.out.println("BENCH " + scenario.name() + " " + scenario.run(database));
  }

  private static void printMachine(EmbeddedPostgres postgres) throws Exception {
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT current_setting('server_version'), current_setting('fsync'),"
                    + " current_setting('synchronous_commit')")) {
      r.next();
      System.out.printf(
          "# cores=%d java=%s postgres=%s fsync=%s synchronous_commit=%s runs=%d (medians)%n",
          Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version"),
          r.getString(1),
          r.getString(2),
          r.getString(3),
          RatioScenario.RUNS);
    }
  }

  private static void deleteRecursively(Path path) throws Exception {
    if (Files.exists(path)) {
      try (Stream<Path> paths = Files.walk(path)) {
        paths.sorted((a, b) -> b.compareTo(a)).map(Path::toFile).forEach(File::delete);
      }
    }
  }
}
