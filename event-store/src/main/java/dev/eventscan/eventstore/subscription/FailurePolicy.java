package dev.eventscan.eventstore.subscription;

/** What a subscription does with an event its handler failed on after every retry. */
public enum FailurePolicy {
  /** Park the event in {@code processing_failures} and go on with the next one (default). */
  PARK_AND_CONTINUE,
  /** Park the event and stop the subscription, so nothing after it is handled until fixed. */
  PARK_AND_STOP
}
