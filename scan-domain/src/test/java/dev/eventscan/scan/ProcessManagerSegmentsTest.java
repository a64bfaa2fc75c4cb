package dev.eventscan.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.scan.lifecycle.ScanEvent;
import dev.eventscan.scan.process.ProcessSettings;
import dev.eventscan.scan.scanner.DomainDiscovery;
import dev.eventscan.scan.scanner.DomainScanner;
import dev.eventscan.scan.scanner.SubdomainDiscovery;
import dev.eventscan.scan.target.Target;
import dev.eventscan.testsupport.PostgresExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The process manager split into segments: several nodes drive scans, each scan on one node. */
@ExtendWith(PostgresExtension.class)
class ProcessManagerSegmentsTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ProcessSettings PROCESS =
      new ProcessSettings(2, Duration.ofSeconds(5), Duration.ofMillis(10), Duration.ofMillis(50))
          .segments(6);
  private static EventStore store;
  private final TestModules modules = new TestModules();

  @BeforeAll
  static void createStore(DataSource pooled) {
    store = EventStore.builder(pooled).build();
  }

  @AfterEach
  void stopModules() {
    modules.close();
  }

  /** Scanner of one node: remembers the targets and domains it was called for. */
  private static final class NodeScanner implements DomainScanner {
    private final ScriptedScanner results = new ScriptedScanner();
    final Set<String> targets = ConcurrentHashMap.newKeySet();

    @Override
    public String name() {
      return "scripted";
    }

    @Override
    public DomainDiscovery discoverDomains(Target target) {
      targets.add(target.domain());
      return results.discoverDomains(target);
    }

    @Override
    public SubdomainDiscovery discoverSubdomains(String domain) {
      return results.discoverSubdomains(domain);
    }
  }

  @Test
  void two_nodes_share_the_scans_and_each_scan_runs_on_one_node() {
    NodeScanner firstScanner = new NodeScanner();
    NodeScanner secondScanner = new NodeScanner();
    ScanModule first = modules.start(store, Map.of("scripted", firstScanner), "scripted", PROCESS);
    ScanModule second =
        modules.start(store, Map.of("scripted", secondScanner), "scripted", PROCESS);
    Eventually.until(
        "both nodes own segments",
        WAIT,
        () -> first.processManager().drivesScans() && second.processManager().drivesScans());

    List<String> scanIds = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      ScanModule via = i % 2 == 0 ? first : second;
      scanIds.add(via.requestScan("shared" + i + ".example", "scripted", 3));
    }
    for (String scanId : scanIds) {
      Eventually.until(
          "scan " + scanId + " completed",
          WAIT,
          () -> TestModules.status(first, scanId).equals("COMPLETED"));
    }

    assertThat(firstScanner.targets).as("scans driven by the first node").isNotEmpty();
    assertThat(secondScanner.targets).as("scans driven by the second node").isNotEmpty();
    assertThat(firstScanner.targets).doesNotContainAnyElementsOf(secondScanner.targets);
    for (String scanId : scanIds) {
      Map<String, Long> resultsPerDomain =
          first.events(scanId).stream()
              .map(first.scans()::deserialize)
              .filter(ScanEvent.SubdomainsDiscovered.class::isInstance)
              .map(e -> ((ScanEvent.SubdomainsDiscovered) e).domain())
              .collect(Collectors.groupingBy(domain -> domain, Collectors.counting()));
      assertThat(resultsPerDomain.values()).as("results of " + scanId).containsOnly(1L);
    }
  }
}
