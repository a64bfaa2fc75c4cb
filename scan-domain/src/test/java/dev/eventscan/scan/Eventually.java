package dev.eventscan.scan;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** The one way these tests wait: poll a condition until it holds or a deadline passes. */
public final class Eventually {
  private static final Duration POLL = Duration.ofMillis(25);

  private Eventually() {}

  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      try {
        Thread.sleep(POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
  }
}
