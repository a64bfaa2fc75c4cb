package dev.eventscan.scan.process;

import java.time.Duration;

/**
 * How the process manager runs scanner calls.
 *
 * @param workers scanner calls running at once; further work queues up and is never dropped
 * @param stepTimeout a call running longer counts as a failed attempt
 * @param initialBackoff wait before the first retry; doubles per attempt up to {@code maxBackoff}
 */
public record ProcessSettings(
    int workers, Duration stepTimeout, Duration initialBackoff, Duration maxBackoff) {

  public static final ProcessSettings DEFAULTS =
      new ProcessSettings(
          8, Duration.ofSeconds(30), Duration.ofMillis(500), Duration.ofSeconds(30));

  public ProcessSettings {
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be at least 1");
    }
    if (stepTimeout.isNegative() || stepTimeout.isZero()) {
      throw new IllegalArgumentException("stepTimeout must be positive");
    }
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("backoff must satisfy 0 <= initial <= max");
    }
  }

  Duration backoffAfter(int attempt) {
    long factor = 1L << Math.min(20, Math.max(0, attempt - 1));
    Duration delay = initialBackoff.multipliedBy(factor);
    return delay.compareTo(maxBackoff) > 0 ? maxBackoff : delay;
  }
}
