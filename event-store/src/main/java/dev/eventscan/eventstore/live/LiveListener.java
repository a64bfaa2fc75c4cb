package dev.eventscan.eventstore.live;

import dev.eventscan.eventstore.stream.RecordedEvent;
import java.util.List;

/**
 * Receives the events of a {@link LiveSubscription}. Called on the feed's thread (or, during
 * catch-up, on the thread that subscribed), in global order: hand the events off (to a bounded
 * queue, say) and return; never block.
 */
@FunctionalInterface
public interface LiveListener {
  void onEvent(RecordedEvent event);

  /**
   * The subscription's events of one read of the log (at least one), in order. By default one
   * {@link #onEvent} each; override it to do per read what need not be done per event (take a lock,
   * wake a consumer).
   */
  default void onEvents(List<RecordedEvent> events) {
    for (RecordedEvent event : events) {
      onEvent(event);
    }
  }

  /**
   * The subscription ended without {@link LiveSubscription#close()} being called: the listener
   * threw, or the store was closed. Resume with a new subscription from the last position seen.
   */
  default void onClosed() {}
}
