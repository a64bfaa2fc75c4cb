package dev.eventscan.eventstore.stream;

import java.util.Optional;

/** Reads single streams. */
public interface StreamReader {
  /** The highest stream version, to read backwards from the end. */
  long END_OF_STREAM = Long.MAX_VALUE;

  /**
   * Reads up to {@code maxCount} events of a stream starting at {@code fromVersion} (inclusive;
   * versions start at 1). A stream that does not exist reads as empty.
   *
   * @throws StreamDeletedException the stream was deleted
   */
  StreamSlice readStream(String streamId, long fromVersion, int maxCount, ReadDirection direction);

  /** Reads a whole stream forwards. */
  default StreamSlice readStream(String streamId) {
    return readStream(streamId, 1, Integer.MAX_VALUE, ReadDirection.FORWARDS);
  }

  /** The stream's version and times, or empty if it was never written. */
  Optional<StreamInfo> streamInfo(String streamId);

  /**
   * Streams newest first, for browsing: deleted ones too (with {@link StreamInfo#deletedAt()}). A
   * page costs an index walk over stream creation times; a prefix or category that matches few of
   * many streams walks further.
   */
  java.util.List<StreamInfo> listStreams(StreamQuery query);
}
