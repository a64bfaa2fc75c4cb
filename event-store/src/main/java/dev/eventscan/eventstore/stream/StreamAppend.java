package dev.eventscan.eventstore.stream;

import java.util.List;

/** One stream's part of an atomic multi-stream append. */
public record StreamAppend(
    String streamId, ExpectedVersion expectedVersion, List<EventData> events) {
  public StreamAppend {
    events = events == null ? null : List.copyOf(events);
  }

  public static StreamAppend of(String streamId, ExpectedVersion expected, EventData... events) {
    return new StreamAppend(streamId, expected, List.of(events));
  }
}
