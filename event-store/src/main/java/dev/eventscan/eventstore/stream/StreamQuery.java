package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.InvalidInputException;
import java.time.Instant;
import java.util.Optional;

/**
 * Which streams {@link StreamReader#listStreams} returns: newest first (by creation time, then by
 * id), optionally only those whose id starts with a prefix and/or of one category, continuing after
 * the last stream of a previous page. Build it with {@link #newestFirst(int)} and the withers.
 *
 * @param idPrefix only ids starting with this (exact, case-sensitive), or empty for all
 * @param category only streams of this category (the id up to its first {@code -}), or empty
 * @param after continue after this stream of the previous page, or empty for the newest
 * @param maxCount at most this many streams, 1 to 1000
 */
public record StreamQuery(
    Optional<String> idPrefix, Optional<String> category, Optional<Cursor> after, int maxCount) {
  public static final int MAX_COUNT = 1000;

  /** Where a page ended: the last stream's creation time and id. */
  public record Cursor(Instant createdAt, String streamId) {
    public Cursor {
      if (createdAt == null) {
        throw new InvalidInputException("a stream cursor needs the creation time");
      }
      StreamIds.requireValid(streamId);
    }

    /** The cursor that continues after {@code stream}. */
    public static Cursor after(StreamInfo stream) {
      return new Cursor(stream.createdAt(), stream.streamId());
    }
  }

  public StreamQuery {
    idPrefix = idPrefix.filter(prefix -> !prefix.isEmpty());
    category = category.filter(name -> !name.isEmpty());
    idPrefix.ifPresent(prefix -> requirePlain("id prefix", prefix));
    category.ifPresent(name -> requirePlain("category", name));
    if (maxCount < 1 || maxCount > MAX_COUNT) {
      throw new InvalidInputException(
          "maxCount must be between 1 and " + MAX_COUNT + ", got " + maxCount);
    }
  }

  public static StreamQuery newestFirst(int maxCount) {
    return new StreamQuery(Optional.empty(), Optional.empty(), Optional.empty(), maxCount);
  }

  public StreamQuery withIdPrefix(String prefix) {
    return new StreamQuery(Optional.ofNullable(prefix), category, after, maxCount);
  }

  public StreamQuery inCategory(String name) {
    return new StreamQuery(idPrefix, Optional.ofNullable(name), after, maxCount);
  }

  public StreamQuery after(Cursor cursor) {
    return new StreamQuery(idPrefix, category, Optional.ofNullable(cursor), maxCount);
  }

  private static void requirePlain(String what, String text) {
    if (text.length() > StreamIds.MAX_LENGTH || StreamIds.containsControlCharacter(text)) {
      throw new InvalidInputException(
          "a stream query's "
              + what
              + " must have at most "
              + StreamIds.MAX_LENGTH
              + " characters and no control characters");
    }
  }
}
