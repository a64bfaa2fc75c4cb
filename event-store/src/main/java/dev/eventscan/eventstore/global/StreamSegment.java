package dev.eventscan.eventstore.global;

import dev.eventscan.eventstore.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * One of {@code count} segments of the log, by a stable hash of the stream id: all events of a
 * stream are in the same segment, so one segment's reader sees each stream in order. The hash is
 * the first 32 bits of the stream id's MD5 (the same in Java and in SQL, on every version of
 * either), so a stream never moves to another segment while {@code count} stays the same.
 */
public record StreamSegment(int index, int count) {
  /** At most this many segments: more would only spread very few streams thinly. */
  public static final int MAX_COUNT = 1024;

  /** The SQL expression of a stream's hash, from the {@code stream_id} column. */
  public static final String SQL_HASH =
      "((('x' || substr(md5(stream_id), 1, 8))::bit(32)::int) & 2147483647)";

  public StreamSegment {
    if (count < 1 || count > MAX_COUNT || index < 0 || index >= count) {
      throw new InvalidInputException(
          "a segment is an index within 0..count-1 of 1.."
              + MAX_COUNT
              + " segments, not "
              + index
              + " of "
              + count);
    }
  }

  /**
   * One digest per thread: looking the algorithm up through the security providers on every call
   * cost more than the hash of a short stream id. {@code digest} resets it for the next use.
   */
  private static final ThreadLocal<MessageDigest> MD5 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("MD5");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("every Java runtime has MD5", e);
            }
          });

  /** The segment of {@code streamId} among {@code count}. */
  public static int indexOf(String streamId, int count) {
    byte[] md5 = MD5.get().digest(streamId.getBytes(StandardCharsets.UTF_8));
    int hash =
        ((md5[0] & 0xff) << 24)
            | ((md5[1] & 0xff) << 16)
            | ((md5[2] & 0xff) << 8)
            | (md5[3] & 0xff);
    return (hash & Integer.MAX_VALUE) % count;
  }

  public boolean contains(String streamId) {
    return indexOf(streamId, count) == index;
  }
}
