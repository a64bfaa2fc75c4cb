package dev.eventscan.eventstore.subscription;

public enum SubscriptionState {
  /** Not started, or stopped. */
  STOPPED,
  /** Started here, waiting for another process that holds the subscription to let go. */
  STANDBY,
  /** Catching up or live: this process handles the events. */
  RUNNING,
  /** Stopped by an event that failed under {@link FailurePolicy#PARK_AND_STOP}. */
  FAILED
}
