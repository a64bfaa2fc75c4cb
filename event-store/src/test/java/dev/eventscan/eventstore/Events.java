package dev.eventscan.eventstore;

import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

/** Test events and ids. */
public final class Events {
  private Events() {}

  public static String newStreamId(String category) {
    return category + "-" + UUID.randomUUID();
  }

  public static EventData event(String type, int n) {
    return EventData.of(
        type, "{\"n\":" + n + "}", EventMetadata.correlated("corr-" + n, "cause-" + n));
  }

  public static List<EventData> events(String type, int count) {
    return IntStream.rangeClosed(1, count).mapToObj(n -> event(type, n)).toList();
  }
}
