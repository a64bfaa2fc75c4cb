package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventscan.eventstore.global.StreamSegment;
import dev.eventscan.scan.ScanModule;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.ServiceProcess;
import dev.eventscan.testsupport.TestDatabase;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Three service processes (separate JVMs) on one PostgreSQL, driven over HTTP like a load balancer
 * would: 300 scans requested round-robin, one node killed with SIGKILL mid-run, a node started
 * later. The tests run in order on the same nodes.
 *
 * <p>The checks that work spreads over the nodes need the process manager on segments (checkpoints
 * named {@code scan-process-manager#<index>}); with one checkpoint they are skipped, and the others
 * check the failover of the single owner instead.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
class ClusterTest {
  private static final String TOKEN = "cluster-test-token-0123456789";
  private static final int SCANS = 300;
  private static final int KILL_AFTER = 120;

  /** Every segment of a dead node has a live owner again within this. */
  private static final Duration TAKEOVER_BOUND = Duration.ofSeconds(10);

  private static final Duration SCANS_FINISH_WITHIN = Duration.ofMinutes(4);
  private static final Set<String> FINAL_EVENTS =
      Set.of(
          ScanEventTypes.SCAN_COMPLETED, ScanEventTypes.SCAN_FAILED, ScanEventTypes.SCAN_CANCELLED);

  private TestDatabase database;
  private Path logs;
  private final List<ServiceProcess> nodes = new ArrayList<>();

  @BeforeAll
  void start_three_nodes(TestDatabase database) throws Exception {
    this.database = database;
    this.logs = Files.createTempDirectory("eventscan-cluster");
    ExecutorService starting = Executors.newFixedThreadPool(3);
    try {
      List<Future<ServiceProcess>> started = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        String name = "node" + i;
        started.add(starting.submit(() -> startNode(name)));
      }
      for (Future<ServiceProcess> node : started) {
        nodes.add(node.get());
      }
    } finally {
      starting.shutdown();
    }
    awaitOwnership("every checkpoint owned by a live node", this::allOwnedByLiveNodes);
  }

  @AfterAll
  void stop_nodes() throws Exception {
    for (ServiceProcess node : nodes) {
      node.close();
    }
  }

  private ServiceProcess startNode(String name) throws Exception {
    return ServiceProcess.start(
        logs,
        name,
        Main.class.getName(),
        Map.of(
            "DATABASE_URL",
            database.jdbcUrl(),
            "API_TOKEN",
            TOKEN,
            // The test is one client sending 300 scans; the limit is not what is tested here.
            "SCAN_RATE_LIMIT_PER_MINUTE",
            "1000000",
            "LOG_LEVEL",
            "warn"));
  }

  @Test
  @Order(1)
  void the_segments_spread_fairly_over_all_three_nodes() throws Exception {
    for (ServiceProcess node : nodes) {
      assertThat(subscriptionsAt(node).path("node").asText())
          .as("the id a node gives itself, as owners show it")
          .startsWith(node.pid() + "@");
    }
    // SEGMENTS: needs the process manager on segments.
    assumeTrue(segmented(), "the process manager runs on one checkpoint: nothing to spread");
    // Fair: with K segments on 3 nodes, each owns floor(K/3) or ceil(K/3).
    awaitOwnership(
        "each of the three nodes owning a fair share of the segments",
        owners -> {
          Map<String, Long> perOwner =
              owners.values().stream()
                  .filter(owner -> owner != null)
                  .collect(Collectors.groupingBy(owner -> owner, Collectors.counting()));
          int k = owners.size();
          return perOwner.size() == 3
              && perOwner.values().stream().allMatch(n -> n >= k / 3 && n <= (k + 2) / 3);
        });
  }

  @Test
  @Order(2)
  void three_hundred_scans_survive_a_node_killed_with_sigkill() throws Exception {
    // Sent 8 at a time, so that the nodes have a backlog, and steps in flight, when one dies.
    List<String> scanIds = new ArrayList<>(requestScans("cluster", 0, KILL_AFTER));
    // The rest goes out while the victim is chosen and killed: a fast pipeline may have finished
    // the first burst by then, leaving no step in flight to be retried.
    CompletableFuture<List<String>> rest =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return requestScans("cluster", KILL_AFTER, SCANS);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Map<String, String> owners = ownersByCheckpoint();
    ServiceProcess victim = nodeWithStepsInFlight();
    Set<String> victimsCheckpoints = checkpointsOwnedBy(victim, owners);
    victim.kill();
    long killedAt = System.nanoTime();
    List<ScanRecord> logAtKill = scanEvents();
    Set<Long> eventsAtKill = logAtKill.stream().map(ScanRecord::id).collect(Collectors.toSet());
    Set<Step> victimsInFlight =
        stepsInFlight(logAtKill).stream()
            .filter(step -> victimsCheckpoints.contains(checkpointOf(step.scanId(), owners)))
            .collect(Collectors.toSet());
    // Measured while the scans go on (on the survivors).
    CompletableFuture<Double> takeover =
        CompletableFuture.supplyAsync(
            () -> {
              awaitEveryCheckpointOwnedByALiveNode(TAKEOVER_BOUND.plus(Duration.ofSeconds(30)));
              return (System.nanoTime() - killedAt) / 1e9;
            });
    scanIds.addAll(rest.get());
    assertThat(victimsInFlight)
        .as("steps the killed node was running when it died (else nothing shows a retry)")
        .isNotEmpty();

    double takeoverSeconds = takeover.get();
    System.out.printf("ClusterTest: takeover_s=%.1f%n", takeoverSeconds);
    assertThat(takeoverSeconds)
        .as("seconds from the SIGKILL until every checkpoint had a live owner")
        .isLessThan(TAKEOVER_BOUND.toSeconds());

    RunningService.await(
        "all " + SCANS + " scans finished",
        SCANS_FINISH_WITHIN,
        () -> finishedScans(scanEvents()).keySet().containsAll(scanIds));
    List<ScanRecord> log = scanEvents();

    Map<String, List<String>> finals = finishedScans(log);
    for (String scanId : scanIds) {
      assertThat(finals.get(scanId))
          .as("final events of scan %s", scanId)
          .hasSize(1)
          .allMatch(
              type ->
                  type.equals(ScanEventTypes.SCAN_COMPLETED)
                      || type.equals(ScanEventTypes.SCAN_FAILED));
    }
    assertEveryResultRecordedOnce(log, finals);

    Set<Long> atKill = eventsAtKill;
    for (Step step : victimsInFlight) {
      assertThat(log)
          .as("an outcome of %s recorded after the kill, by a surviving node", step)
          .anyMatch(event -> !atKill.contains(event.id()) && step.settledBy(event));
    }
  }

  @Test
  @Order(3)
  void a_node_started_later_receives_segments_and_work() throws Exception {
    // SEGMENTS: needs the process manager on segments; with one checkpoint a new node stands by.
    assumeTrue(segmented(), "the process manager runs on one checkpoint: a new node stands by");
    Map<String, Long> handledBefore = eventsHandled();
    ServiceProcess late = startNode("node4");
    nodes.add(late);
    awaitOwnership(
        "the late node owning a segment", owners -> !checkpointsOwnedBy(late, owners).isEmpty());
    requestScansAndAwaitThem("late", 30);
    Map<String, Long> handledAfter = eventsHandled();
    assertThat(checkpointsOwnedBy(late, ownersByCheckpoint()))
        .as("segments the late node owns and has handled events on")
        .anyMatch(
            checkpoint ->
                handledAfter.getOrDefault(checkpoint, 0L)
                    > handledBefore.getOrDefault(checkpoint, 0L));
  }

  /**
   * A checkpoint shows its owner only once the owner has handled an event on it: requests rounds of
   * scans on the live nodes until the owners satisfy {@code condition} (at most a minute).
   */
  private void awaitOwnership(String what, Predicate<Map<String, String>> condition)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    for (int round = 0; !condition.test(ownersByCheckpoint()); round++) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what + ": " + ownersByCheckpoint());
      }
      requestScansAndAwaitThem("round" + round, 12);
    }
  }

  /**
   * Requests scans {@code from} to {@code to} (exclusive) round-robin on the nodes live when each
   * is sent; one whose node dies meanwhile goes to the next.
   */
  private List<String> requestScans(String prefix, int from, int to) throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(8);
    try {
      List<Future<String>> requests = new ArrayList<>();
      for (int i = from; i < to; i++) {
        int n = i;
        String body = "{\"target\":\"" + prefix + "x" + n + ".example\"}";
        requests.add(clients.submit(() -> createScanOnALiveNode(n, body)));
      }
      List<String> scanIds = new ArrayList<>();
      for (Future<String> request : requests) {
        scanIds.add(request.get());
      }
      return scanIds;
    } finally {
      clients.shutdown();
    }
  }

  private String createScanOnALiveNode(int n, String body) throws Exception {
    for (int attempt = 0; ; attempt++) {
      List<ServiceProcess> live = nodes.stream().filter(ServiceProcess::alive).toList();
      try {
        return RunningService.createScanAt(
            live.get((n + attempt) % live.size()).url(), body, TOKEN);
      } catch (java.io.IOException nodeDied) {
        if (attempt >= 5) {
          throw nodeDied;
        }
      }
    }
  }

  /** Requests {@code count} scans round-robin on the live nodes and waits until they finish. */
  private void requestScansAndAwaitThem(String prefix, int count) throws Exception {
    List<String> scanIds = requestScans(prefix, 0, count);
    RunningService.await(
        "scans " + prefix + " finished",
        SCANS_FINISH_WITHIN,
        () -> finishedScans(scanEvents()).keySet().containsAll(scanIds));
  }

  private boolean allOwnedByLiveNodes(Map<String, String> owners) {
    return !owners.isEmpty()
        && owners.values().stream()
            .allMatch(owner -> nodeOwning(owner).filter(ServiceProcess::alive).isPresent());
  }

  // --- the monitoring API, as an operator would read it ---

  /** The process manager's checkpoints and their owners (null while none). */
  private Map<String, String> ownersByCheckpoint() {
    Map<String, String> owners = new LinkedHashMap<>();
    for (JsonNode segment : processManager().path("segments")) {
      owners.put(
          segment.path("checkpoint").asText(),
          segment.path("owner").isNull() ? null : segment.path("owner").asText());
    }
    return owners;
  }

  private Map<String, Long> eventsHandled() {
    Map<String, Long> handled = new HashMap<>();
    for (JsonNode segment : processManager().path("segments")) {
      handled.put(segment.path("checkpoint").asText(), segment.path("eventsHandled").asLong());
    }
    return handled;
  }

  private JsonNode processManager() {
    for (ServiceProcess node : nodes) {
      if (!node.alive()) {
        continue;
      }
      try {
        for (JsonNode subscription : subscriptionsAt(node).path("subscriptions")) {
          if (subscription.path("name").asText().equals(ScanModule.PROCESS_MANAGER)) {
            return subscription;
          }
        }
        return Json.MAPPER.createObjectNode();
      } catch (Exception e) {
        // this node is busy or going away: ask the next one
      }
    }
    throw new AssertionError("no live node answered /api/subscriptions");
  }

  private static JsonNode subscriptionsAt(ServiceProcess node) throws Exception {
    HttpResponse<String> response =
        RunningService.HTTP.send(
            HttpRequest.newBuilder(URI.create(node.url() + "/api/subscriptions"))
                .header("Authorization", "Bearer " + TOKEN)
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return Json.tree(response.body());
  }

  private boolean segmented() {
    return ownersByCheckpoint().keySet().stream().anyMatch(name -> name.contains("#"));
  }

  /** The node that owns a checkpoint: its owner id starts with the process id ("pid@host/..."). */
  private Optional<ServiceProcess> nodeOwning(String owner) {
    return nodes.stream()
        .filter(node -> owner != null && owner.startsWith(node.pid() + "@"))
        .findFirst();
  }

  private Set<String> checkpointsOwnedBy(ServiceProcess node, Map<String, String> owners) {
    return owners.entrySet().stream()
        .filter(entry -> nodeOwning(entry.getValue()).filter(node::equals).isPresent())
        .map(Map.Entry::getKey)
        .collect(Collectors.toSet());
  }

  /**
   * The live node running the most scanner steps right now (started, not finished), so that killing
   * it leaves steps for the others to retry; with segments, a node owns only some scans.
   */
  private ServiceProcess nodeWithStepsInFlight() throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      Map<String, String> owners = ownersByCheckpoint();
      Map<ServiceProcess, Long> steps =
          stepsInFlight(scanEvents()).stream()
              .map(step -> owners.get(checkpointOf(step.scanId(), owners)))
              .flatMap(owner -> nodeOwning(owner).stream())
              .filter(ServiceProcess::alive)
              .collect(Collectors.groupingBy(node -> node, Collectors.counting()));
      if (!steps.isEmpty() || System.nanoTime() > deadline) {
        return steps.entrySet().stream()
            .max(Map.Entry.comparingByValue())
            .map(Map.Entry::getKey)
            .orElseGet(this::busiestNode);
      }
      Thread.sleep(20);
    }
  }

  private ServiceProcess busiestNode() {
    return nodes.stream()
        .filter(ServiceProcess::alive)
        .max(
            java.util.Comparator.comparingInt(
                node -> checkpointsOwnedBy(node, ownersByCheckpoint()).size()))
        .orElseThrow();
  }

  private void awaitEveryCheckpointOwnedByALiveNode(Duration within) {
    RunningService.await(
        "every checkpoint of the process manager owned by a live node",
        within,
        () -> allOwnedByLiveNodes(ownersByCheckpoint()));
  }

  /** The checkpoint a scan's events are handled under: its segment's, or the only one. */
  private static String checkpointOf(String scanId, Map<String, String> owners) {
    if (owners.size() == 1) {
      return owners.keySet().iterator().next();
    }
    return ScanModule.PROCESS_MANAGER
        + "#"
        + StreamSegment.indexOf(ScanEventTypes.streamId(scanId), owners.size());
  }

  // --- the events themselves, read straight from PostgreSQL ---

  /** One scan event: its row id, scan, type and the fields that identify a step. */
  private record ScanRecord(
      long id, String scanId, String type, String step, String domain, int attempt) {}

  /** One attempt of a scanner call. */
  private record Step(String scanId, String step, String domain, int attempt) {
    static final String DOMAIN_DISCOVERY = "DOMAIN_DISCOVERY";
    static final String SUBDOMAIN_DISCOVERY = "SUBDOMAIN_DISCOVERY";

    /** A result, or this attempt's failure. */
    boolean settledBy(ScanRecord event) {
      if (!event.scanId().equals(scanId)) {
        return false;
      }
      boolean result =
          step.equals(DOMAIN_DISCOVERY)
              ? event.type().equals(ScanEventTypes.DOMAINS_DISCOVERED)
              : event.type().equals(ScanEventTypes.SUBDOMAINS_DISCOVERED)
                  && domain.equals(event.domain());
      boolean failure =
          event.type().equals(ScanEventTypes.STEP_ATTEMPT_FAILED)
              && step.equals(event.step())
              && java.util.Objects.equals(domain, event.domain())
              && attempt == event.attempt();
      return result || failure;
    }
  }

  private List<ScanRecord> scanEvents() {
    try (Connection c = database.dataSource().getConnection();
        PreparedStatement select =
            c.prepareStatement(
                """
                SELECT id, data->>'scanId', type, data->>'step', data->>'domain',
                       coalesce((data->>'attempt')::int, 0)
                  FROM event_store.events
                 WHERE stream_id LIKE 'scan-%'
                 ORDER BY transaction_id, id
                """);
        ResultSet rows = select.executeQuery()) {
      List<ScanRecord> events = new ArrayList<>();
      while (rows.next()) {
        events.add(
            new ScanRecord(
                rows.getLong(1),
                rows.getString(2),
                rows.getString(3),
                rows.getString(4),
                rows.getString(5),
                rows.getInt(6)));
      }
      return events;
    } catch (java.sql.SQLException e) {
      throw new AssertionError("reading the scan events failed", e);
    }
  }

  /** Attempts started and neither answered nor failed yet. */
  private static Set<Step> stepsInFlight(List<ScanRecord> log) {
    Set<Step> started = new HashSet<>();
    for (ScanRecord event : log) {
      if (event.type().equals(ScanEventTypes.DOMAIN_DISCOVERY_STARTED)) {
        started.add(new Step(event.scanId(), Step.DOMAIN_DISCOVERY, null, event.attempt()));
      } else if (event.type().equals(ScanEventTypes.SUBDOMAIN_DISCOVERY_STARTED)) {
        started.add(
            new Step(event.scanId(), Step.SUBDOMAIN_DISCOVERY, event.domain(), event.attempt()));
      } else {
        started.removeIf(step -> step.settledBy(event));
      }
    }
    return started;
  }

  /** Scan id to the types of its final events, for scans with at least one. */
  private static Map<String, List<String>> finishedScans(List<ScanRecord> log) {
    return log.stream()
        .filter(event -> FINAL_EVENTS.contains(event.type()))
        .collect(
            Collectors.groupingBy(
                ScanRecord::scanId, Collectors.mapping(ScanRecord::type, Collectors.toList())));
  }

  /**
   * No scan discovered its domains twice, no domain's subdomains were recorded twice, and a
   * completed scan has exactly one result for each domain it discovered.
   */
  private static void assertEveryResultRecordedOnce(
      List<ScanRecord> log, Map<String, List<String>> finals) {
    Map<String, Long> domainResults =
        log.stream()
            .filter(event -> event.type().equals(ScanEventTypes.DOMAINS_DISCOVERED))
            .collect(Collectors.groupingBy(ScanRecord::scanId, Collectors.counting()));
    assertThat(domainResults).allSatisfy((scan, count) -> assertThat(count).isEqualTo(1));
    Map<String, Long> subdomainResults =
        log.stream()
            .filter(event -> event.type().equals(ScanEventTypes.SUBDOMAINS_DISCOVERED))
            .collect(
                Collectors.groupingBy(
                    event -> event.scanId() + " " + event.domain(), Collectors.counting()));
    assertThat(subdomainResults)
        .as("SubdomainsDiscovered per scan and domain")
        .allSatisfy((scanAndDomain, count) -> assertThat(count).isEqualTo(1));
    Map<String, Set<String>> startedDomains =
        log.stream()
            .filter(e -> e.type().equals(ScanEventTypes.SUBDOMAIN_DISCOVERY_STARTED))
            .collect(
                Collectors.groupingBy(
                    ScanRecord::scanId,
                    Collectors.mapping(ScanRecord::domain, Collectors.toSet())));
    finals.forEach(
        (scanId, types) -> {
          if (types.contains(ScanEventTypes.SCAN_COMPLETED)) {
            for (String domain : startedDomains.getOrDefault(scanId, Set.of())) {
              assertThat(subdomainResults)
                  .as("results of completed scan %s for %s", scanId, domain)
                  .containsEntry(scanId + " " + domain, 1L);
            }
          }
        });
  }
}
