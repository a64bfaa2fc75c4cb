package dev.eventscan.bench;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * One load-generator client's view of its connection: undoes HTTP/1.1 chunked encoding and finds,
 * in each SSE {@code data:} line, the number of {@code "n":<i>} (or {@code "n": <i>}, as
 * PostgreSQL's jsonb writes it), noting the {@code id:} of the last event for a resume. Works on
 * whole spans of the read buffer: chunk payloads are skipped over by length and lines are found by
 * their line feed, so a byte is looked at about once; only a line cut by the end of a read is
 * copied.
 */
final class SseReceiver {
  /** Receives each {@code n} found, with the time its read returned. */
  interface Deliveries {
    void delivered(int n, long atMicros);
  }

  private final Deliveries deliveries;
  private boolean headersDone;
  private String statusLine; // of the last response headers, null before them
  private boolean chunked;
  private final StringBuilder headers = new StringBuilder();
  private long chunkLeft; // payload bytes left in the current chunk; 0: reading a size line
  private long chunkSize;
  private boolean sizeDigits; // the size line so far had a digit (else it is a chunk's CRLF)
  private boolean sizeExtension; // past a ';' on the size line
  private byte[] line = new byte[512]; // a line cut by the end of a read
  private int lineLength;
  private byte[] lastId = new byte[64];
  private int lastIdLength = -1;

  SseReceiver(Deliveries deliveries) {
    this.deliveries = deliveries;
  }

  /** A new connection: the next bytes start with response headers. */
  void reset() {
    headersDone = false;
    statusLine = null;
    chunked = false;
    headers.setLength(0);
    chunkLeft = 0;
    chunkSize = 0;
    sizeDigits = false;
    sizeExtension = false;
    lineLength = 0;
  }

  /** This connection's response headers have ended. */
  boolean answered() {
    return headersDone;
  }

  /** The answer was {@code 200}: the stream is open. */
  boolean ok() {
    return statusLine != null && statusLine.regionMatches(true, 0, "HTTP/1.1 200", 0, 12);
  }

  /** The status line of this connection's answer, or null before its headers ended. */
  String statusLine() {
    return statusLine;
  }

  /** The {@code id:} of the last event seen, or null. */
  String lastEventId() {
    return lastIdLength < 0 ? null : new String(lastId, 0, lastIdLength, StandardCharsets.UTF_8);
  }

  /** Feeds received bytes; true when the response headers ended in them. */
  boolean feed(byte[] bytes, int length, long nowMicros) {
    int i = 0;
    boolean headersEnded = false;
    if (!headersDone) {
      i = headers(bytes, length);
      headersEnded = headersDone;
    }
    while (i < length) {
      if (!chunked) {
        sse(bytes, i, length, nowMicros);
        return headersEnded;
      }
      if (chunkLeft == 0) {
        i = sizeLine(bytes, i, length);
        continue;
      }
      int end = (int) Math.min(length, i + chunkLeft);
      sse(bytes, i, end, nowMicros);
      chunkLeft -= end - i;
      i = end;
    }
    return headersEnded;
  }

  private int headers(byte[] bytes, int length) {
    for (int i = 0; i < length; i++) {
      headers.append((char) bytes[i]);
      int n = headers.length();
      if (n >= 4
          && headers.charAt(n - 1) == '\n'
          && headers.charAt(n - 2) == '\r'
          && headers.charAt(n - 3) == '\n'
          && headers.charAt(n - 4) == '\r') {
        String text = headers.toString().toLowerCase(Locale.ROOT);
        statusLine = headers.toString().lines().findFirst().orElse("");
        chunked = text.contains("transfer-encoding: chunked");
        headersDone = true;
        headers.setLength(0);
        return i + 1;
      }
    }
    return length;
  }

  /** Reads a chunk-size line (or the CRLF ending the chunk before it) up to its line feed. */
  private int sizeLine(byte[] bytes, int i, int length) {
    for (; i < length; i++) {
      byte b = bytes[i];
      if (b == '\n') {
        if (sizeDigits && chunkSize > 0) {
          chunkLeft = chunkSize;
        }
        chunkSize = 0;
        sizeDigits = false;
        sizeExtension = false;
        return i + 1;
      }
      if (b == ';') {
        sizeExtension = true;
      } else if (!sizeExtension && b != '\r') {
        int digit = Character.digit(b, 16);
        if (digit >= 0) {
          chunkSize = chunkSize * 16 + digit;
          sizeDigits = true;
        }
      }
    }
    return i;
  }

  /** SSE lines in {@code bytes[from, to)}. */
  private void sse(byte[] bytes, int from, int to, long nowMicros) {
    int start = from;
    for (int i = from; i < to; i++) {
      if (bytes[i] != '\n') {
        continue;
      }
      if (lineLength > 0) {
        append(bytes, start, i);
        line(line, 0, lineLength, nowMicros);
        lineLength = 0;
      } else {
        line(bytes, start, i, nowMicros);
      }
      start = i + 1;
    }
    append(bytes, start, to);
  }

  private void append(byte[] bytes, int from, int to) {
    int n = to - from;
    if (n <= 0) {
      return;
    }
    if (lineLength + n > line.length) {
      line = Arrays.copyOf(line, Math.max(2 * line.length, lineLength + n));
    }
    System.arraycopy(bytes, from, line, lineLength, n);
    lineLength += n;
  }

  private void line(byte[] bytes, int from, int to, long nowMicros) {
    if (to - from > 5
        && bytes[from] == 'd'
        && bytes[from + 1] == 'a'
        && bytes[from + 2] == 't'
        && bytes[from + 3] == 'a') {
      int n = numberIn(bytes, from + 4, to);
      if (n >= 0) {
        deliveries.delivered(n, nowMicros);
      }
    } else if (to - from > 3 && bytes[from] == 'i' && bytes[from + 1] == 'd') {
      int start = from + 3;
      while (start < to && bytes[start] == ' ') {
        start++;
      }
      int end = to > start && bytes[to - 1] == '\r' ? to - 1 : to;
      if (end - start > lastId.length) {
        lastId = new byte[end - start];
      }
      System.arraycopy(bytes, start, lastId, 0, end - start);
      lastIdLength = end - start;
    }
  }

  /** The {@code i} of the first {@code "n":i} (spaces allowed after the colon), or -1. */
  static int numberIn(byte[] bytes, int from, int to) {
    for (int i = from; i + 4 < to; i++) {
      if (bytes[i] == '"' && bytes[i + 1] == 'n' && bytes[i + 2] == '"' && bytes[i + 3] == ':') {
        int j = i + 4;
        while (j < to && bytes[j] == ' ') {
          j++;
        }
        int value = 0;
        boolean any = false;
        while (j < to && bytes[j] >= '0' && bytes[j] <= '9') {
          value = value * 10 + (bytes[j++] - '0');
          any = true;
        }
        return any ? value : -1;
      }
    }
    return -1;
  }
}
