package dev.eventscan.eventstore.global;

import dev.eventscan.eventstore.InvalidInputException;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamIds;
import java.util.Set;

/**
 * Which events a global reader wants: by event type and/or stream category, and optionally only one
 * {@link StreamSegment} of the streams. An empty set means "all"; every condition given must match.
 *
 * @param segment null for all streams
 */
public record EventFilter(Set<String> types, Set<String> categories, StreamSegment segment) {
  private static final EventFilter ALL = new EventFilter(Set.of(), Set.of());

  /** A filter over all streams. */
  public EventFilter(Set<String> types, Set<String> categories) {
    this(types, categories, null);
  }

  public EventFilter {
    types = Set.copyOf(types);
    categories = Set.copyOf(categories);
    types.forEach(type -> requirePlain("type", type));
    categories.forEach(category -> requirePlain("category", category));
  }

  /** Names are compared in SQL: control characters (NUL above all) can only be a mistake. */
  private static void requirePlain(String what, String name) {
    if (name.isEmpty() || name.length() > StreamIds.MAX_LENGTH) {
      throw new InvalidInputException(
          "a filter's " + what + " must have 1 to " + StreamIds.MAX_LENGTH + " characters");
    }
    if (name.chars().anyMatch(Character::isISOControl)) {
      throw new InvalidInputException(
          "a filter's " + what + " must not contain control characters");
    }
  }

  public static EventFilter all() {
    return ALL;
  }

  public static EventFilter types(String... types) {
    return new EventFilter(Set.of(types), Set.of());
  }

  public static EventFilter categories(String... categories) {
    return new EventFilter(Set.of(), Set.of(categories));
  }

  public EventFilter andTypes(String... moreTypes) {
    return new EventFilter(Set.of(moreTypes), categories, segment);
  }

  /** The same filter, for the streams of one segment only. */
  public EventFilter inSegment(StreamSegment streamSegment) {
    return new EventFilter(types, categories, streamSegment);
  }

  public boolean matches(RecordedEvent event) {
    return (types.isEmpty() || types.contains(event.type()))
        && (categories.isEmpty() || categories.contains(event.category()))
        && (segment == null || segment.contains(event.streamId()));
  }
}
