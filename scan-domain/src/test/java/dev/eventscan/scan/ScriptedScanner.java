package dev.eventscan.scan;

import dev.eventscan.scan.scanner.DomainDiscovery;
import dev.eventscan.scan.scanner.DomainScanner;
import dev.eventscan.scan.scanner.ScannerFailedException;
import dev.eventscan.scan.scanner.SimulatedScanner;
import dev.eventscan.scan.scanner.SubdomainDiscovery;
import dev.eventscan.scan.target.Target;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The deterministic simulated scanner, plus scripted failures and a gate that holds calls: the
 * stand-in for the internet that tests need to make scans fail, wait or crash on cue.
 */
final class ScriptedScanner implements DomainScanner {
  private final SimulatedScanner results = new SimulatedScanner(7, Duration.ZERO, 0);
  private final Map<String, AtomicInteger> failuresLeft = new ConcurrentHashMap<>();
  final AtomicInteger calls = new AtomicInteger();
  volatile CountDownLatch gate = new CountDownLatch(0);
  volatile Duration latency = Duration.ZERO;

  /** The next {@code times} calls for {@code key} (a target or a domain) fail. */
  ScriptedScanner failFor(String key, int times) {
    failuresLeft.put(key, new AtomicInteger(times));
    return this;
  }

  @Override
  public String name() {
    return "scripted";
  }

  @Override
  public DomainDiscovery discoverDomains(Target target) {
    before(target.domain());
    return results.discoverDomains(target);
  }

  @Override
  public SubdomainDiscovery discoverSubdomains(String domain) {
    before(domain);
    return results.discoverSubdomains(domain);
  }

  private void before(String key) {
    calls.incrementAndGet();
    try {
      if (!gate.await(30, TimeUnit.SECONDS)) {
        throw new ScannerFailedException("gate never opened");
      }
      if (!latency.isZero()) {
        Thread.sleep(latency.toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ScannerFailedException("interrupted");
    }
    AtomicInteger left = failuresLeft.get(key);
    if (left != null && left.getAndDecrement() > 0) {
      throw new ScannerFailedException("scripted failure for " + key);
    }
  }
}
