package dev.eventscan.eventstore.subscription;

import java.time.Duration;

/**
 * How a failing handler is retried: {@code maxAttempts} deliveries in all, waiting {@code
 * initialDelay}, then {@code factor} times longer each time, at most {@code maxDelay}.
 */
public record RetryPolicy(
    int maxAttempts, Duration initialDelay, double factor, Duration maxDelay) {
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(5, Duration.ofMillis(100), 2.0, Duration.ofSeconds(10));

  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1");
    }
    if (initialDelay.isNegative() || maxDelay.compareTo(initialDelay) < 0 || factor < 1) {
      throw new IllegalArgumentException("need 0 <= initialDelay <= maxDelay and factor >= 1");
    }
  }

  /** The wait after the given failed attempt (1-based). */
  public Duration delayAfter(int attempt) {
    double millis = initialDelay.toMillis() * Math.pow(factor, Math.max(0, attempt - 1));
    return millis >= maxDelay.toMillis() ? maxDelay : Duration.ofMillis((long) millis);
  }
}
