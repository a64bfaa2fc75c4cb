package dev.eventscan.scan.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.scan.lifecycle.ScanCommand.Cancel;
import dev.eventscan.scan.lifecycle.ScanCommand.RecordDomains;
import dev.eventscan.scan.lifecycle.ScanCommand.RecordSubdomains;
import dev.eventscan.scan.lifecycle.ScanCommand.RequestScan;
import dev.eventscan.scan.lifecycle.ScanCommand.StartDomainDiscovery;
import dev.eventscan.scan.lifecycle.ScanCommand.StartSubdomainDiscovery;
import dev.eventscan.scan.lifecycle.ScanEvent.SubdomainDiscoveryStarted;
import dev.eventscan.scan.lifecycle.ScanEvent.SubdomainsDiscovered;
import dev.eventscan.scan.scanner.DomainDiscovery.AssociatedDomain;
import dev.eventscan.scan.scanner.SubdomainDiscovery.Finding;
import dev.eventscan.scan.target.Target;
import dev.eventscan.testsupport.PostgresExtension;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Scans keeps each unfinished scan's last known state and decides commands on it without reading;
 * two nodes (two {@link Scans}) show that a state another node has moved on from is never what a
 * command is decided on in the end.
 */
@ExtendWith(PostgresExtension.class)
class ScansCacheTest {
  private static EventStore store;
  private static Scans nodeA;
  private static Scans nodeB;

  @BeforeAll
  static void startNodes(DataSource dataSource) {
    store = EventStore.builder(dataSource).build();
    nodeA = new Scans(store, Clock.systemUTC());
    nodeB = new Scans(store, Clock.systemUTC());
  }

  @AfterAll
  static void closeStore() {
    store.close();
  }

  @Test
  void a_command_on_a_state_another_node_moved_on_from_is_decided_again_on_the_current_one() {
    String scanId =
        nodeA.request(new RequestScan(Target.parse("cache.example"), "s", 1, Instant.now()));
    assertThat(nodeA.load(scanId).version()).isEqualTo(1); // node A knows version 1

    nodeB.handle(scanId, new Cancel("from node B", Instant.now())); // version 2 on node B
    List<ScanEvent> appended =
        nodeA.handle(scanId, new StartDomainDiscovery(1, Instant.now())); // A still knows 1

    assertThat(appended).as("a cancelled scan starts no step").isEmpty();
    assertThat(store.readStream(ScanEventTypes.streamId(scanId)).events())
        .extracting(RecordedEvent::type)
        .containsExactly(ScanEventTypes.SCAN_REQUESTED, ScanEventTypes.SCAN_CANCELLED);
  }

  @Test
  void a_load_after_another_nodes_command_sees_it() {
    String scanId =
        nodeA.request(new RequestScan(Target.parse("load.example"), "s", 1, Instant.now()));
    nodeA.load(scanId);
    nodeB.handle(scanId, new StartDomainDiscovery(1, Instant.now()));

    Scans.LoadedScan loaded = nodeA.load(scanId);

    assertThat(loaded.version()).isEqualTo(2);
    assertThat(loaded.state()).isInstanceOf(ScanState.Running.class);
  }

  @Test
  void commands_on_the_known_state_append_in_order() {
    String scanId =
        nodeA.request(new RequestScan(Target.parse("order.example"), "s", 1, Instant.now()));
    assertThat(nodeA.handle(scanId, new StartDomainDiscovery(1, Instant.now()))).hasSize(1);
    assertThat(nodeA.handle(scanId, new StartDomainDiscovery(1, Instant.now())))
        .as("the same start again is ignored")
        .isEmpty();
    assertThat(nodeA.load(scanId).version()).isEqualTo(2);
  }

  @Test
  void concurrent_commands_on_one_scan_each_record_their_own_events_once() throws Exception {
    String scanId =
        nodeA.request(new RequestScan(Target.parse("many.example"), "s", 1, Instant.now()));
    nodeA.handle(scanId, new StartDomainDiscovery(1, Instant.now()));
    List<String> domains = List.of("a.example", "b.example", "c.example", "d.example");
    nodeA.handle(
        scanId,
        new RecordDomains(
            domains.stream().map(d -> new AssociatedDomain(d, "MX")).toList(), Instant.now()));

    ExecutorService workers = Executors.newFixedThreadPool(domains.size());
    List<Future<List<ScanEvent>>> outcomes = new ArrayList<>();
    int returned = 0;
    try {
      for (String domain : domains) {
        outcomes.add(
            workers.submit(
                () -> {
                  List<ScanEvent> events = new ArrayList<>();
                  events.addAll(
                      nodeA.handle(scanId, new StartSubdomainDiscovery(domain, 1, Instant.now())));
                  events.addAll(
                      nodeA.handle(
                          scanId,
                          new RecordSubdomains(
                              domain,
                              List.of(new Finding("www." + domain, "A", "10.0.0.1")),
                              false,
                              Instant.now())));
                  return events;
                }));
      }
      for (int i = 0; i < domains.size(); i++) {
        List<ScanEvent> events = outcomes.get(i).get(30, TimeUnit.SECONDS);
        String domain = domains.get(i);
        returned += events.size();
        assertThat(events)
            .as("each caller gets its own command's events, nobody else's")
            .allMatch(e -> !(e instanceof SubdomainDiscoveryStarted s) || s.domain().equals(domain))
            .allMatch(e -> !(e instanceof SubdomainsDiscovered d) || d.domain().equals(domain));
      }
    } finally {
      workers.shutdownNow();
    }

    List<RecordedEvent> stream = store.readStream(ScanEventTypes.streamId(scanId)).events();
    assertThat(stream)
        .extracting(RecordedEvent::type)
        .filteredOn(ScanEventTypes.SUBDOMAINS_DISCOVERED::equals)
        .hasSize(domains.size());
    assertThat(stream)
        .extracting(RecordedEvent::type)
        .filteredOn(ScanEventTypes.SCAN_COMPLETED::equals)
        .hasSize(1);
    assertThat(stream).hasSize(3 + 2 * domains.size() + 1);
    assertThat(returned)
        .as("every appended event was returned to the one command that caused it")
        .isEqualTo(2 * domains.size() + 1);
    assertThat(stream.stream().map(e -> e.metadata().causationId()).distinct())
        .as("events appended together still name their own commands")
        .hasSize(3 + 2 * domains.size());
  }

  @Test
  void what_a_command_makes_due_is_appended_with_it_and_a_refused_follow_up_adds_nothing() {
    String scanId =
        nodeA.request(new RequestScan(Target.parse("follow.example"), "s", 1, Instant.now()));
    nodeA.handle(scanId, new StartDomainDiscovery(1, Instant.now()));
    List<String> domains = List.of("x.example", "y.example");

    Scans.Executed executed =
        nodeA.execute(
            scanId,
            new RecordDomains(
                domains.stream().map(d -> new AssociatedDomain(d, "MX")).toList(), Instant.now()),
            state ->
                List.of(
                    new StartSubdomainDiscovery("x.example", 1, Instant.now()),
                    new StartSubdomainDiscovery("unknown.example", 1, Instant.now()),
                    new StartSubdomainDiscovery("y.example", 1, Instant.now())));

    assertThat(executed.events())
        .extracting(e -> e.getClass().getSimpleName())
        .containsExactly(
            "DomainsDiscovered", "SubdomainDiscoveryStarted", "SubdomainDiscoveryStarted");
    assertThat(executed.version()).isEqualTo(5);
    List<RecordedEvent> stream = store.readStream(ScanEventTypes.streamId(scanId)).events();
    assertThat(stream.subList(2, 5))
        .as("one append: one transaction")
        .extracting(e -> e.position().transactionIdText())
        .containsOnly(stream.get(2).position().transactionIdText());
  }
}
