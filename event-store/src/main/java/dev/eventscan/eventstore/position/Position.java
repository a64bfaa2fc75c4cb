package dev.eventscan.eventstore.position;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Comparator;

/**
 * A place in the global log: the pair (transaction id, event id) that global readers order by. Its
 * string form {@code "<transactionId>-<eventId>"} is stable, so it can be stored as a checkpoint or
 * sent as an SSE {@code id:}. A reader given a position reads what comes after it.
 */
public record Position(long transactionId, long eventId) implements Comparable<Position> {
  /** Before the first event. */
  public static final Position START = new Position(0, 0);

  /** After every event that can ever exist: "from now on" for subscriptions. */
  public static final Position END = new Position(Long.MAX_VALUE, Long.MAX_VALUE);

  private static final Comparator<Position> ORDER =
      Comparator.comparingLong(Position::transactionId).thenComparingLong(Position::eventId);

  public Position {
    if (transactionId < 0 || eventId < 0) {
      throw new InvalidPositionException(
          "position parts must not be negative: " + transactionId + "-" + eventId);
    }
  }

  /** Parses the form produced by {@link #toString()}. */
  @JsonCreator
  public static Position parse(String text) {
    if (text == null) {
      throw new InvalidPositionException("position is missing");
    }
    int dash = text.indexOf('-');
    if (dash <= 0 || dash == text.length() - 1) {
      throw new InvalidPositionException(
          "position must look like <transactionId>-<eventId>, got: " + abbreviate(text));
    }
    try {
      return new Position(
          Long.parseLong(text.substring(0, dash)), Long.parseLong(text.substring(dash + 1)));
    } catch (NumberFormatException e) {
      throw new InvalidPositionException(
          "position must look like <transactionId>-<eventId>, got: " + abbreviate(text));
    }
  }

  /** The transaction id as the database's {@code xid8} text, for {@code ?::text::xid8}. */
  public String transactionIdText() {
    return Long.toString(transactionId);
  }

  /** A position as the database returns it: the {@code xid8} as text, and the event's id. */
  public static Position of(String transactionIdText, long eventId) {
    return new Position(Long.parseLong(transactionIdText), eventId);
  }

  private static String abbreviate(String text) {
    return text.length() > 60 ? text.substring(0, 60) + "..." : text;
  }

  public boolean isAfter(Position other) {
    return compareTo(other) > 0;
  }

  @Override
  public int compareTo(Position other) {
    return ORDER.compare(this, other);
  }

  @JsonValue
  @Override
  public String toString() {
    return transactionId + "-" + eventId;
  }
}
