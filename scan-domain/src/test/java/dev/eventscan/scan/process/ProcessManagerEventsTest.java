package dev.eventscan.scan.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Which events the process manager's subscription is given. */
class ProcessManagerEventsTest {
  @Test
  void the_subscription_gets_every_event_that_lists_unlists_or_drives_a_scan() {
    for (String type :
        new String[] {
          ScanEventTypes.SCAN_REQUESTED,
          ScanEventTypes.DOMAINS_DISCOVERED,
          ScanEventTypes.STEP_ATTEMPT_FAILED,
          ScanEventTypes.SCAN_COMPLETED,
          ScanEventTypes.SCAN_FAILED,
          ScanEventTypes.SCAN_CANCELLED
        }) {
      assertThat(ScanProcessManager.EVENTS.matches(scanEvent(type))).as(type).isTrue();
    }
  }

  @Test
  void step_starts_and_subdomain_results_are_left_out() {
    for (String type :
        new String[] {
          ScanEventTypes.DOMAIN_DISCOVERY_STARTED,
          ScanEventTypes.SUBDOMAIN_DISCOVERY_STARTED,
          ScanEventTypes.SUBDOMAINS_DISCOVERED
        }) {
      assertThat(ScanProcessManager.EVENTS.matches(scanEvent(type))).as(type).isFalse();
    }
  }

  private static RecordedEvent scanEvent(String type) {
    return new RecordedEvent(
        Position.START,
        UUID.randomUUID(),
        ScanEventTypes.streamId(UUID.randomUUID().toString()),
        1,
        type,
        "{}",
        "{}",
        Instant.now());
  }
}
