package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The HTTP/1.1 chunk size line that SSE streams write themselves. */
class SseChunkTest {
  private static String head(int length) {
    ByteBuffer head = SseStream.chunkHead(length);
    byte[] bytes = new byte[head.remaining()];
    head.get(bytes);
    return new String(bytes, StandardCharsets.US_ASCII);
  }

  @Test
  void the_size_line_is_the_length_in_hex_and_crlf() {
    assertThat(head(1)).isEqualTo("1\r\n");
    assertThat(head(0xabc)).isEqualTo("abc\r\n");
    assertThat(head(64 * 1024)).isEqualTo("10000\r\n");
    assertThat(head(Integer.MAX_VALUE)).isEqualTo("7fffffff\r\n");
  }
}
