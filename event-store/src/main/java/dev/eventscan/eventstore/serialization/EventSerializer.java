package dev.eventscan.eventstore.serialization;

import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.RecordedEvent;

/** Turns application event objects into stored events and back. */
public interface EventSerializer {
  /** An event to append, with a fresh event id. */
  EventData serialize(Object event, EventMetadata metadata);

  /**
   * The application object for a stored event; events of a type that is not registered come back as
   * {@link UnknownEvent}.
   */
  Object deserialize(RecordedEvent event);
}
