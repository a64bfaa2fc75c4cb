package dev.eventscan.eventstore.live;

import dev.eventscan.eventstore.stream.RecordedEvent;

/**
 * Receives the events of a {@link LiveSubscription}. Called on the feed's thread (or, during
 * catch-up, on the thread that subscribed), one event at a time and in global order: hand the event
 * off (to a bounded queue, say) and return; never block.
 */
@FunctionalInterface
public interface LiveListener {
  void onEvent(RecordedEvent event);

  /**
   * The subscription ended without {@link LiveSubscription#close()} being called: the listener
   * threw, or the store was closed. Resume with a new subscription from the last position seen.
   */
  default void onClosed() {}
}
