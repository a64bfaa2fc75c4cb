package dev.eventscan.eventstore.stream;

import java.util.List;

/**
 * Events read from one stream, in the direction asked for.
 *
 * @param streamVersion the stream's current version when read (0 if the stream does not exist)
 * @param endOfStream true when no further event exists in the read direction
 */
public record StreamSlice(
    String streamId, List<RecordedEvent> events, long streamVersion, boolean endOfStream) {

  /** The version to read from next in the same direction. */
  public long nextVersion(ReadDirection direction) {
    if (events.isEmpty()) {
      return direction == ReadDirection.FORWARDS ? streamVersion + 1 : 0;
    }
    long last = events.get(events.size() - 1).streamVersion();
    return direction == ReadDirection.FORWARDS ? last + 1 : last - 1;
  }
}
