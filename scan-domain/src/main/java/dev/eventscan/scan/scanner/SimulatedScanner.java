package dev.eventscan.scan.scanner;

import dev.eventscan.scan.scanner.DomainDiscovery.AssociatedDomain;
import dev.eventscan.scan.scanner.SubdomainDiscovery.Finding;
import dev.eventscan.scan.target.Target;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A scanner that needs no network: results are a pure function of (target or domain, seed), so
 * tests and demos repeat exactly; failures are random with the configured probability so retries
 * show.
 */
public final class SimulatedScanner implements DomainScanner {
  private static final List<String> SUFFIXES = List.of("cdn", "mail", "static", "assets", "corp");
  private static final List<String> TLDS = List.of("net", "com", "io", "org");

  private final long seed;
  private final Duration latency;
  private final double failureProbability;

  /**
   * @param latency how long each call sleeps, to look like the network
   * @param failureProbability chance in [0, 1] that a call fails
   */
  public SimulatedScanner(long seed, Duration latency, double failureProbability) {
    if (failureProbability < 0 || failureProbability > 1) {
      throw new IllegalArgumentException("failureProbability must be within [0, 1]");
    }
    if (latency.isNegative()) {
      throw new IllegalArgumentException("latency must not be negative");
    }
    this.seed = seed;
    this.latency = latency;
    this.failureProbability = failureProbability;
  }

  @Override
  public String name() {
    return "simulated";
  }

  @Override
  public DomainDiscovery discoverDomains(Target target) {
    pretendToWork("domain discovery for " + target);
    Random random = randomFor(target.domain());
    String name = target.domain().substring(0, target.domain().indexOf('.'));
    Set<String> domains = new LinkedHashSet<>();
    List<AssociatedDomain> associated = new ArrayList<>();
    associated.add(new AssociatedDomain(target.domain(), "TARGET"));
    domains.add(target.domain());
    int extra = random.nextInt(5); // 1-5 domains in all
    while (domains.size() < extra + 1) {
      String domain =
          name
              + "-"
              + SUFFIXES.get(random.nextInt(SUFFIXES.size()))
              + "."
              + TLDS.get(random.nextInt(TLDS.size()));
      if (domains.add(domain)) {
        associated.add(new AssociatedDomain(domain, random.nextBoolean() ? "MX" : "SPF"));
      }
    }
    return new DomainDiscovery(associated);
  }

  @Override
  public SubdomainDiscovery discoverSubdomains(String domain) {
    pretendToWork("subdomain discovery for " + domain);
    Random random = randomFor(domain);
    int count = random.nextInt(21); // 0-20
    List<String> words = new ArrayList<>(Wordlist.DEFAULT);
    java.util.Collections.shuffle(words, random);
    List<Finding> findings = new ArrayList<>();
    for (String word : words.subList(0, Math.min(count, words.size()))) {
      findings.add(
          new Finding(
              word + "." + domain,
              "A",
              "10." + random.nextInt(256) + "." + random.nextInt(256) + "." + random.nextInt(256)));
    }
    return new SubdomainDiscovery(domain, findings, false);
  }

  private Random randomFor(String key) {
    return new Random(new SplittableRandom(seed ^ key.hashCode() * 0x9E3779B97F4A7C15L).nextLong());
  }

  private void pretendToWork(String what) {
    if (!latency.isZero()) {
      try {
        Thread.sleep(latency.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ScannerFailedException(what + " was interrupted");
      }
    }
    if (failureProbability > 0 && ThreadLocalRandom.current().nextDouble() < failureProbability) {
      throw new ScannerFailedException("simulated failure in " + what);
    }
  }
}
