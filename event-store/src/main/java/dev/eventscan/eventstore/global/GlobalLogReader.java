package dev.eventscan.eventstore.global;

import dev.eventscan.eventstore.position.Position;

/**
 * Reads the log of all streams in one order that never changes and never skips: events of a
 * transaction that is still running stay invisible, together with everything after them, until it
 * ends. A long-running write transaction anywhere in the PostgreSQL cluster therefore delays
 * readers (never loses events); {@link #barrierAge()} shows how long.
 */
public interface GlobalLogReader {
  /** Reads up to {@code maxCount} events after {@code after}, in global order. */
  GlobalLogPage readAll(Position after, EventFilter filter, int maxCount);

  default GlobalLogPage readAll(Position after, int maxCount) {
    return readAll(after, EventFilter.all(), maxCount);
  }

  /** The position of the last event that is safe to read now, or {@link Position#START}. */
  Position headPosition();

  /** The position of the last event matching {@code filter} that is safe to read now. */
  Position headPosition(EventFilter filter);

  /** The last {@code maxCount} events that are safe to read now, newest first. */
  java.util.List<dev.eventscan.eventstore.stream.RecordedEvent> readLatest(
      EventFilter filter, int maxCount);

  /**
   * Up to {@code maxCount} events strictly before {@code before}, newest first: for paging back
   * through the log. {@link Position#END} starts at the newest event that is safe to read now.
   */
  java.util.List<dev.eventscan.eventstore.stream.RecordedEvent> readBackwards(
      Position before, EventFilter filter, int maxCount);

  /**
   * How long the oldest transaction still running in the cluster has been open: the time global
   * readers may be held back. Zero when none is running.
   */
  java.time.Duration barrierAge();
}
