package dev.eventscan.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The load generator's parser: what a client received, however the reads cut the bytes. */
class SseReceiverTest {
  private static final String HEADERS =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

  @Test
  void a_number_written_by_jsonb_with_a_space_after_the_colon_counts() {
    byte[] line = "data: {\"data\":{\"n\": 17}}".getBytes(StandardCharsets.UTF_8);
    assertThat(SseReceiver.numberIn(line, 0, line.length)).isEqualTo(17);
  }

  @Test
  void every_event_is_found_whatever_the_reads_and_chunks_cut() {
    String body =
        chunk(": keep-alive\n\n")
            + chunk("id: 100-1\ndata: {\"position\":\"100-1\",\"data\":{\"n\": 0}}\n\n")
            + chunk(
                "id: 100-2\ndata: {\"data\":{\"n\":1}}\n\nid: 101-3\ndata: {\"data\":{\"n\": 22}}\n\n");
    byte[] stream = (HEADERS + body).getBytes(StandardCharsets.UTF_8);
    for (int cut = 1; cut < stream.length; cut++) {
      List<Integer> found = new ArrayList<>();
      SseReceiver receiver = new SseReceiver((n, at) -> found.add(n));
      boolean headersEnded = receiver.feed(Arrays.copyOf(stream, cut), cut, 0);
      byte[] rest = Arrays.copyOfRange(stream, cut, stream.length);
      headersEnded |= receiver.feed(rest, rest.length, 0);
      assertThat(found).as("cut at %d", cut).containsExactly(0, 1, 22);
      assertThat(headersEnded).as("cut at %d", cut).isTrue();
      assertThat(receiver.lastEventId()).as("cut at %d", cut).isEqualTo("101-3");
    }
  }

  /** One HTTP/1.1 chunk, with an extension on its size line as the grammar allows. */
  private static String chunk(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes((Integer.toHexString(bytes.length) + ";x=y\r\n").getBytes());
    out.writeBytes(bytes);
    out.writeBytes("\r\n".getBytes());
    return out.toString(StandardCharsets.UTF_8);
  }
}
