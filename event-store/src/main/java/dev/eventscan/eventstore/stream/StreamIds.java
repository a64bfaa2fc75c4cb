package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.InvalidInputException;

/** Rules for stream ids: shared by validation and by category filtering. */
public final class StreamIds {
  public static final int MAX_LENGTH = 200;

  private StreamIds() {}

  /** The category of a stream: the part of its id before the first {@code -}. */
  public static String category(String streamId) {
    int dash = streamId.indexOf('-');
    return dash < 0 ? streamId : streamId.substring(0, dash);
  }

  /** Throws {@link InvalidInputException} naming the problem if the id is not acceptable. */
  public static void requireValid(String streamId) {
    if (streamId == null || streamId.isBlank()) {
      throw new InvalidInputException("stream id must not be blank");
    }
    if (streamId.length() > MAX_LENGTH) {
      throw new InvalidInputException(
          "stream id must be at most " + MAX_LENGTH + " characters, got " + streamId.length());
    }
    if (containsControlCharacter(streamId)) {
      throw new InvalidInputException("stream id must not contain control characters");
    }
  }

  static boolean containsControlCharacter(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (Character.isISOControl(text.charAt(i))) {
        return true;
      }
    }
    return false;
  }
}
