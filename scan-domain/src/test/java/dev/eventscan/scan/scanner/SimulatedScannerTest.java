package dev.eventscan.scan.scanner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.scan.target.Target;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SimulatedScannerTest {
  private final SimulatedScanner reliable = new SimulatedScanner(42, Duration.ZERO, 0.0);

  @Test
  void results_are_the_same_for_the_same_target_and_seed() {
    Target target = Target.parse("example.com");
    assertThat(reliable.discoverDomains(target))
        .isEqualTo(new SimulatedScanner(42, Duration.ZERO, 0.0).discoverDomains(target));
    assertThat(reliable.discoverSubdomains("example.com"))
        .isEqualTo(reliable.discoverSubdomains("example.com"));
    assertThat(reliable.discoverDomains(target))
        .isNotEqualTo(new SimulatedScanner(7, Duration.ZERO, 0.0).discoverDomains(target));
  }

  @Test
  void counts_stay_within_one_to_five_domains_and_zero_to_twenty_subdomains() {
    for (int i = 0; i < 200; i++) {
      Target target = Target.parse("site" + i + ".example");
      var domains = reliable.discoverDomains(target).domains();
      assertThat(domains).hasSizeBetween(1, 5);
      assertThat(domains.get(0).domain()).isEqualTo(target.domain());
      assertThat(reliable.discoverSubdomains(target.domain()).findings()).hasSizeBetween(0, 20);
    }
  }

  @Test
  void failures_happen_at_about_the_configured_rate() {
    SimulatedScanner flaky = new SimulatedScanner(1, Duration.ZERO, 0.2);
    int failures = 0;
    for (int i = 0; i < 2000; i++) {
      try {
        flaky.discoverSubdomains("example.com");
      } catch (ScannerFailedException e) {
        failures++;
      }
    }
    assertThat(failures).isBetween(300, 500);
  }
}
