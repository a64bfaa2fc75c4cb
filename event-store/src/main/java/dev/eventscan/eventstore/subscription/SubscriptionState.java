package dev.eventscan.eventstore.subscription;

/** What a named subscription is doing in this process. */
public enum SubscriptionState {
  /** Not started, or stopped. */
  STOPPED,
  /** Started here, waiting for another process that holds the subscription to let go. */
  STANDBY,
  /** Catching up or live: this process handles the events. */
  RUNNING,
  /**
   * PostgreSQL or a connection failed: waiting (with growing pauses, at most a few seconds) to take
   * the subscription again. Events are never parked for a storage failure.
   */
  RECONNECTING,
  /** Stopped by an event that failed under {@link FailurePolicy#PARK_AND_STOP}. */
  FAILED;

  /** The name in the subscriptions table and in JSON: lower case. */
  @com.fasterxml.jackson.annotation.JsonValue
  public String storedName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  static SubscriptionState fromStored(String stored) {
    return valueOf(stored.toUpperCase(java.util.Locale.ROOT));
  }
}
