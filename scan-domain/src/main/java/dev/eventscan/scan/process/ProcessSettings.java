package dev.eventscan.scan.process;

import java.time.Duration;

/**
 * How the process manager runs scanner calls.
 *
 * @param workers scanner calls running at once
 * @param stepTimeout a call running longer counts as a failed attempt; counted from its start
 * @param initialBackoff wait before the first retry; doubles per attempt up to {@code maxBackoff}
 * @param queueCapacity scanner calls waiting for a worker at most; more work waits for room (it is
 *     never dropped: what cannot wait in memory is found again by the sweep)
 * @param sweepInterval how often the node driving scans looks for unfinished scans with nothing in
 *     flight, and drives them on
 * @param segments the process manager's subscription is split into this many segments by scan, so
 *     that several nodes drive scans at once, each scan on one node (see {@code
 *     SubscriptionOptions.segments})
 */
public record ProcessSettings(
    int workers,
    Duration stepTimeout,
    Duration initialBackoff,
    Duration maxBackoff,
    int queueCapacity,
    Duration sweepInterval,
    int segments) {

  /** Six segments: shared evenly by one, two, three or six nodes. */
  public static final int DEFAULT_SEGMENTS = 6;

  public static final ProcessSettings DEFAULTS =
      new ProcessSettings(
          8, Duration.ofSeconds(30), Duration.ofMillis(500), Duration.ofSeconds(30));

  /** A queue of four calls per worker, swept every second. */
  public ProcessSettings(
      int workers, Duration stepTimeout, Duration initialBackoff, Duration maxBackoff) {
    this(
        workers,
        stepTimeout,
        initialBackoff,
        maxBackoff,
        4 * Math.max(1, workers),
        Duration.ofSeconds(1),
        DEFAULT_SEGMENTS);
  }

  /** With {@link #DEFAULT_SEGMENTS}. */
  public ProcessSettings(
      int workers,
      Duration stepTimeout,
      Duration initialBackoff,
      Duration maxBackoff,
      int queueCapacity,
      Duration sweepInterval) {
    this(
        workers,
        stepTimeout,
        initialBackoff,
        maxBackoff,
        queueCapacity,
        sweepInterval,
        DEFAULT_SEGMENTS);
  }

  public ProcessSettings segments(int count) {
    return new ProcessSettings(
        workers, stepTimeout, initialBackoff, maxBackoff, queueCapacity, sweepInterval, count);
  }

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
    if (queueCapacity < 1) {
      throw new IllegalArgumentException("queueCapacity must be at least 1");
    }
    if (sweepInterval.isNegative() || sweepInterval.isZero()) {
      throw new IllegalArgumentException("sweepInterval must be positive");
    }
    if (segments < 1 || segments > 64) {
      throw new IllegalArgumentException("segments must be within 1..64");
    }
  }

  Duration backoffAfter(int attempt) {
    long factor = 1L << Math.min(20, Math.max(0, attempt - 1));
    Duration delay = initialBackoff.multipliedBy(factor);
    return delay.compareTo(maxBackoff) > 0 ? maxBackoff : delay;
  }
}
