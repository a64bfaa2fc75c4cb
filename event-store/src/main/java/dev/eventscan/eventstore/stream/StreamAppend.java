package dev.eventscan.eventstore.stream;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** One stream's part of an atomic multi-stream append. */
public record StreamAppend(
    String streamId, ExpectedVersion expectedVersion, List<EventData> events) {
  public StreamAppend {
    // Not List.copyOf: a null element must reach validation and get a clear message.
    events = events == null ? null : Collections.unmodifiableList(new ArrayList<>(events));
  }

  public static StreamAppend of(String streamId, ExpectedVersion expected, EventData... events) {
    return new StreamAppend(streamId, expected, List.of(events));
  }
}
