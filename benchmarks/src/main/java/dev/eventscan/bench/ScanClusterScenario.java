package dev.eventscan.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventscan.eventstore.subscription.SubscriptionState;
import dev.eventscan.eventstore.subscription.SubscriptionStatus;
import dev.eventscan.scan.ScanModule;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import dev.eventscan.testsupport.ServiceProcess;
import dev.eventscan.web.Main;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleConsumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The same scan load on 1 and on 3 service nodes: separate JVMs on this run's PostgreSQL, started
 * the way {@code ClusterTest} starts them ({@link ServiceProcess}), scans requested round-robin
 * over HTTP and timed until every one has its final event, after an untimed warm-up whenever the
 * nodes changed. One and three nodes alternate, three rounds each; then one more three-node run in
 * which one node is SIGKILLed halfway: take-over is the time from the SIGKILL until every segment
 * of the process manager has a live owner again, read from the database.
 */
final class ScanClusterScenario implements Scenario {
  /** Scans per run; {@code -Dbench.clusterScans=} for quicker checks. */
  private static final int SCANS = Integer.getInteger("bench.clusterScans", 150);

  private static final int CLIENTS = 8;

  /** Scans each node set handles, untimed, after it changed: freshly started JVMs compile first. */
  private static final int WARM_UP_SCANS = 24;

  private static final Duration FINISH_WITHIN = Duration.ofMinutes(5);
  private static final Duration SPREAD_WITHIN = Duration.ofSeconds(90);
  private static final ObjectMapper JSON = new ObjectMapper();

  private BenchmarkDatabase database;
  private final List<ServiceProcess> nodes = new ArrayList<>();
  private Path logs;
  private int started;
  private int warmUps;

  @Override
  public String name() {
    return "scan-cluster";
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    this.database = database;
    this.logs = ServiceScenarios.tempDir("eventscan-scan-cluster");
    try {
      List<Double> one = new ArrayList<>();
      List<Double> three = new ArrayList<>();
      for (int round = 1; round <= RatioScenario.RUNS; round++) {
        resize(1);
        one.add(scansPerSecond("one" + round, null));
        resize(3);
        three.add(scansPerSecond("three" + round, null));
      }
      double[] takeover = new double[1];
      double withKill = scansPerSecond("kill", seconds -> takeover[0] = seconds);
      System.out.printf(
          Locale.ROOT,
          "# %s: %d scans a run, %d clients; scans/s on 1 node %s, on 3 nodes %s, on 3 nodes with"
              + " one SIGKILLed halfway %.1f; node logs in %s%n",
          name(),
          SCANS,
          CLIENTS,
          rounded(one),
          rounded(three),
          withKill,
          logs);
      return String.format(
          Locale.ROOT,
          "scans_per_s_1=%.1f scans_per_s_3=%.1f takeover_s=%.1f",
          RatioScenario.median(one.stream().mapToDouble(v -> v).toArray()),
          RatioScenario.median(three.stream().mapToDouble(v -> v).toArray()),
          takeover[0]);
    } finally {
      resize(0);
    }
  }

  /**
   * Requests {@link #SCANS} scans round-robin on the live nodes and times them until each has its
   * final event. With {@code takeover}, the last node is SIGKILLed after half of them were
   * requested, the rest go to the survivors, and the take-over time is handed to it.
   */
  private double scansPerSecond(String prefix, DoubleConsumer takeover) throws Exception {
    long start = System.nanoTime();
    List<String> streams = new ArrayList<>(request(prefix, 0, SCANS / 2));
    if (takeover != null) {
      ServiceProcess victim = nodes.remove(nodes.size() - 1);
      Set<String> survivors = ownerPrefixes();
      long killedAt = System.nanoTime();
      victim.kill();
      CompletableFuture<Double> measured =
          CompletableFuture.supplyAsync(
              () -> {
                await("every segment owned by a survivor", () -> ownedBy(survivors, 1));
                return (System.nanoTime() - killedAt) / 1e9;
              });
      streams.addAll(request(prefix, SCANS / 2, SCANS)); // the load goes on meanwhile
      takeover.accept(measured.get());
    } else {
      streams.addAll(request(prefix, SCANS / 2, SCANS));
    }
    awaitFinished(prefix, streams);
    return streams.size() / ((System.nanoTime() - start) / 1e9);
  }

  /** Waits until each of these scan streams has its final event. */
  private void awaitFinished(String what, List<String> streams) throws Exception {
    long deadline = System.nanoTime() + FINISH_WITHIN.toNanos();
    while (finished(streams) < streams.size()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            what + ": scans not finished within " + FINISH_WITHIN + "; node logs in " + logs);
      }
      Thread.sleep(50);
    }
  }

  /** Scans {@code from} to {@code to} (exclusive), round-robin, 8 at a time; their streams. */
  private List<String> request(String prefix, int from, int to) throws Exception {
    List<ServiceProcess> live = List.copyOf(nodes);
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      List<Future<String>> requests = new ArrayList<>();
      for (int i = from; i < to; i++) {
        String url = live.get(i % live.size()).url();
        String target = prefix + "x" + i + ".example";
        requests.add(clients.submit(() -> ScanEventTypes.streamId(createScan(url, target))));
      }
      List<String> streams = new ArrayList<>();
      for (Future<String> request : requests) {
        streams.add(request.get());
      }
      return streams;
    } finally {
      clients.shutdown();
    }
  }

  private static String createScan(String url, String target) throws Exception {
    HttpResponse<String> created =
        ServiceScenarios.HTTP.send(
            HttpRequest.newBuilder(URI.create(url + "/api/scans"))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString("{\"target\":\"" + target + "\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (created.statusCode() != 202) {
      throw new IllegalStateException("POST /api/scans answered " + created.statusCode());
    }
    return JSON.readTree(created.body()).get("id").asText();
  }

  /** How many of these scan streams have their final event. */
  private int finished(List<String> streams) throws Exception {
    try (Connection c = database.store().dataSource().getConnection();
        PreparedStatement select =
            c.prepareStatement(
                "SELECT count(DISTINCT stream_id) FROM event_store.events"
                    + " WHERE stream_id = ANY(?) AND type = ANY(?)")) {
      select.setArray(1, c.createArrayOf("text", streams.toArray()));
      select.setArray(
          2,
          c.createArrayOf(
              "text",
              new String[] {
                ScanEventTypes.SCAN_COMPLETED,
                ScanEventTypes.SCAN_FAILED,
                ScanEventTypes.SCAN_CANCELLED
              }));
      try (ResultSet row = select.executeQuery()) {
        row.next();
        return row.getInt(1);
      }
    }
  }

  /** Stops the last nodes gracefully or starts more, then waits until they share the segments. */
  private void resize(int size) throws Exception {
    while (nodes.size() > size) {
      nodes.remove(nodes.size() - 1).close();
    }
    ExecutorService starting = Executors.newFixedThreadPool(3);
    try {
      List<Future<ServiceProcess>> more = new ArrayList<>();
      while (nodes.size() + more.size() < size) {
        String node = "node" + (++started);
        more.add(
            starting.submit(
                () ->
                    ServiceProcess.start(
                        logs,
                        node,
                        Main.class.getName(),
                        Map.of(
                            "DATABASE_URL", database.jdbcUrl(),
                            "SCAN_RATE_LIMIT_PER_MINUTE", "1000000",
                            "LOG_LEVEL", "warn"))));
      }
      for (Future<ServiceProcess> node : more) {
        nodes.add(node.get());
      }
    } finally {
      starting.shutdown();
    }
    if (size > 0) {
      Set<String> owners = ownerPrefixes();
      await("the segments spread over " + size + " node(s)", () -> ownedBy(owners, size));
      awaitFinished("warm-up", request("warmup" + (++warmUps), 0, WARM_UP_SCANS));
    }
  }

  /** How the running nodes' owner ids start: with the process id, {@code pid@host/...}. */
  private Set<String> ownerPrefixes() {
    return nodes.stream().map(node -> node.pid() + "@").collect(Collectors.toSet());
  }

  /**
   * Whether every segment of the process manager is running under one of these nodes, and at least
   * {@code spread} of them own one.
   */
  private boolean ownedBy(Set<String> ownerPrefixes, int spread) {
    List<SubscriptionStatus> segments =
        database.store().subscriptions().list().stream()
            .filter(status -> status.subscription().equals(ScanModule.PROCESS_MANAGER))
            .toList();
    Predicate<SubscriptionStatus> live =
        status ->
            status.state() == SubscriptionState.RUNNING
                && status.owner().map(owner -> ownedByAny(owner, ownerPrefixes)).orElse(false);
    return !segments.isEmpty()
        && segments.size() == segments.get(0).segmentCount()
        && segments.stream().allMatch(live)
        && segments.stream().map(s -> s.owner().orElseThrow()).distinct().count() >= spread;
  }

  private static boolean ownedByAny(String owner, Set<String> ownerPrefixes) {
    return ownerPrefixes.stream().anyMatch(owner::startsWith);
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + SPREAD_WITHIN.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  private static String rounded(List<Double> values) {
    return values.stream()
        .map(v -> String.format(Locale.ROOT, "%.1f", v))
        .collect(Collectors.joining(", ", "(", ")"));
  }
}
