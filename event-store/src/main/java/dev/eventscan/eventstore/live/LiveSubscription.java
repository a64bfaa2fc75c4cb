package dev.eventscan.eventstore.live;

import dev.eventscan.eventstore.position.Position;

/** A listener registered with {@link LiveEvents}; close it to stop receiving events. */
public interface LiveSubscription extends AutoCloseable {
  /** The position up to which this subscription has seen the log (delivered or filtered out). */
  Position position();

  @Override
  void close();
}
