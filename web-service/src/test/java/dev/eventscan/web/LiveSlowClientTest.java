package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.live.LiveSubscription;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import dev.eventscan.web.SseClientForTests.Frame;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clients further behind than the frames the service keeps for live clients ({@code
 * SSE_BUFFER_EVENTS}, small here): let go, and resumed by the store without a gap.
 */
@ExtendWith(PostgresExtension.class)
class LiveSlowClientTest {
  private static final int BUFFER = 16;
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static RunningService app;
  private static EventStore store;

  @BeforeAll
  static void start(TestDatabase database) throws Exception {
    // Keep-alives far apart: a client is let go for falling behind here, not for looking dead.
    app =
        new RunningService(
            database, Map.of("SSE_BUFFER_EVENTS", "" + BUFFER, "SSE_KEEPALIVE_SECONDS", "25"));
    store = app.service.store();
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** HTTP/1.1 gets chunks written straight to the connection; HTTP/1.0 the servlet output. */
  @ParameterizedTest
  @ValueSource(strings = {"HTTP/1.1", "HTTP/1.0"})
  void a_client_that_falls_behind_the_buffer_is_let_go_and_resumes_without_a_gap(String version)
      throws Exception {
    String category = "slow" + UUID.randomUUID().toString().substring(0, 6);
    String path = "/api/events/live?category=" + category;
    int events = 120;
    String pad = "x".repeat(100_000); // 12 MB in all: more than the socket buffers hold
    CountDownLatch dispatched = new CountDownLatch(events);
    try (Socket slow = new Socket();
        LiveSubscription feed =
            store
                .live()
                .subscribeFromNow(
                    EventFilter.categories(category),
                    e -> {
                      if (e.type().equals("Big")) {
                        dispatched.countDown();
                      }
                    })) {
      // A tiny receive window, and nothing read until the events are appended.
      slow.setReceiveBufferSize(4096);
      slow.connect(new InetSocketAddress("127.0.0.1", app.service.port()));
      slow.getOutputStream()
          .write(
              ("GET "
                      + path
                      + " "
                      + version
                      + "\r\nHost: 127.0.0.1:"
                      + app.service.port()
                      + "\r\n"
                      + "Accept: text/event-stream\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      // Live once a marker appended after the connect arrives (the stream registers as it opens).
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      int markers = 0;
      while (messageIds(received.toString(StandardCharsets.UTF_8), version).isEmpty()) {
        assertThat(markers).as("markers sent before the stream went live").isLessThan(100);
        store.append(
            category + "-marker" + markers++, ExpectedVersion.noStream(), EventData.of("M", "{}"));
        readFor(slow, Duration.ofMillis(200), received);
      }
      for (int i = 0; i < events; i++) {
        store.append(
            category + "-" + i,
            ExpectedVersion.noStream(),
            EventData.of("Big", "{\"n\":" + i + ",\"pad\":\"" + pad + "\"}"));
      }
      // The service's feed hands each event to the hub and to this listener in the same pass.
      assertThat(dispatched.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

      assertThat(readFor(slow, WAIT, received)).as("the server let the slow client go").isTrue();
      List<String> before = messageIds(received.toString(StandardCharsets.UTF_8), version);
      List<String> all = app.logIds(EventFilter.categories(category), markers + events, WAIT);
      List<String> expected = all.subList(all.indexOf(before.get(0)), all.size());
      assertThat(before.size())
          .as("what the slow client got before it was let go")
          .isLessThan(expected.size());
      assertThat(before).containsExactlyElementsOf(expected.subList(0, before.size()));

      try (SseClientForTests resumed =
          new SseClientForTests(app.url + path, before.get(before.size() - 1))) {
        resumed.awaitMessages(expected.size() - before.size(), WAIT);
        List<String> after = resumed.messages().stream().map(Frame::id).toList();
        assertThat(after)
            .containsExactlyElementsOf(expected.subList(before.size(), expected.size()));
      }
    }
  }

  @Test
  void clients_resuming_from_far_back_while_more_events_than_the_buffer_go_by_get_each_once()
      throws Exception {
    // The buffer moves on past their cursors while they replay: the replay reads on.
    LiveUpdatesTest.resumeFromFarBackWhileEventsFlow(app, 5, 1_500, 200, 0);
  }

  /** Reads what arrives for {@code time}; true when the server closed the stream meanwhile. */
  private static boolean readFor(Socket socket, Duration time, ByteArrayOutputStream received)
      throws Exception {
    socket.setSoTimeout((int) time.toMillis());
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[64 * 1024];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        received.write(buffer, 0, n);
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  /** The ids of the complete messages in a raw response (a frame cut off by the close is not). */
  private static List<String> messageIds(String response, String version) {
    int headersEnd = response.indexOf("\r\n\r\n");
    String body = headersEnd < 0 ? "" : response.substring(headersEnd + 4);
    if (version.equals("HTTP/1.1")) {
      body = unchunked(body);
    }
    List<String> ids = new ArrayList<>();
    int end;
    while ((end = body.indexOf("\n\n")) >= 0) {
      String frame = body.substring(0, end);
      body = body.substring(end + 2);
      if (frame.contains("\ndata: ")) {
        ids.add(frame.substring(frame.indexOf("id: ") + 4, frame.indexOf('\n')));
      }
    }
    return ids;
  }

  /** The data of an HTTP/1.1 chunked body, up to where it was cut off. */
  private static String unchunked(String body) {
    StringBuilder data = new StringBuilder();
    int at = 0;
    int sizeEnd;
    while ((sizeEnd = body.indexOf("\r\n", at)) >= 0) {
      int size = Integer.parseInt(body.substring(at, sizeEnd), 16);
      int start = sizeEnd + 2;
      data.append(body, start, Math.min(body.length(), start + size));
      if (size == 0 || start + size + 2 > body.length()) {
        break;
      }
      assertThat(body.substring(start + size, start + size + 2)).isEqualTo("\r\n");
      at = start + size + 2;
    }
    return data.toString();
  }
}
