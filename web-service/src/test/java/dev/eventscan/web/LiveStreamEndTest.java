package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The end of an HTTP/1.1 stream whose chunks we write to the connection ourselves, past Jetty's
 * generator: Jetty's last chunk follows ours exactly, and the connection serves the next request.
 */
@ExtendWith(PostgresExtension.class)
class LiveStreamEndTest {
  // Repeated: a close right after a write completed aborted the connection in about half the runs
  // (the write was still marked under way until the drain took its next batch).
  @RepeatedTest(5)
  void a_stream_the_service_ends_ends_with_the_last_chunk_and_the_connection_goes_on(
      TestDatabase database) throws Exception {
    try (RunningService app = new RunningService(database, Map.of())) { // its hub is closed here
      endAStream(app, app.service.store());
    }
  }

  private static void endAStream(RunningService app, EventStore store) throws Exception {
    String category = "end" + UUID.randomUUID().toString().substring(0, 6);
    int port = URI.create(app.url).getPort();
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET /api/events/live?tail=1&category="
                  + category
                  + " HTTP/1.1\r\n"
                  + "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      store.append(category + "-1", ExpectedVersion.noStream(), EventData.of("Ended", "{}"));
      InputStream in = new BufferedInputStream(socket.getInputStream());
      assertThat(head(in)).startsWith("http/1.1 200").contains("transfer-encoding: chunked");
      // The event (by ?tail=1 or live, whichever comes first), then the service ends the stream.
      StringBuilder body = new StringBuilder();
      int size;
      while ((size = Integer.parseInt(LiveUpdatesTest.crlfLine(in), 16)) > 0) {
        body.append(new String(in.readNBytes(size), StandardCharsets.UTF_8));
        assertThat(LiveUpdatesTest.crlfLine(in)).as("the CRLF that ends a chunk").isEmpty();
        if (body.indexOf("\"Ended\"") >= 0) {
          app.service.web().hub().close(); // ends every stream as a shutdown does
        }
      }
      assertThat(body).contains("\"Ended\"");
      assertThat(LiveUpdatesTest.crlfLine(in)).as("the last chunk's empty trailer").isEmpty();

      // Nothing after the response's end: the next response on the connection starts cleanly.
      out.write(
          "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      assertThat(head(in)).startsWith("http/1.1 200");
    }
  }

  /** The status line and headers, lower-cased, one per line. */
  private static String head(InputStream in) throws Exception {
    StringBuilder head = new StringBuilder();
    for (String line = LiveUpdatesTest.crlfLine(in); !line.isEmpty(); ) {
      head.append(line.toLowerCase(Locale.ROOT)).append('\n');
      line = LiveUpdatesTest.crlfLine(in);
    }
    return head.toString();
  }
}
