package dev.eventscan.eventstore.subscription;

import java.time.Duration;

/** A worker's "stop" flag, and pauses (back-offs, stand-by) that end as soon as it is raised. */
final class StopSignal {
  private volatile boolean raised;

  boolean raised() {
    return raised;
  }

  synchronized void raise() {
    raised = true;
    notifyAll();
  }

  /** Returns at once for a duration that is not positive. */
  synchronized void pause(Duration duration) {
    if (!raised && duration.compareTo(Duration.ZERO) > 0) {
      try {
        wait(Math.max(1, duration.toMillis()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        raised = true;
      }
    }
  }
}
