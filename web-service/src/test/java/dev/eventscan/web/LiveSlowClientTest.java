package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.live.LiveSubscription;
import dev.eventscan.eventstore.position.Position;
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
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

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

  @Test
  void a_client_that_falls_behind_the_buffer_is_let_go_and_resumes_without_a_gap()
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
                .subscribeFromNow(EventFilter.categories(category), e -> dispatched.countDown())) {
      // A tiny receive window, and nothing read until the events are appended. HTTP/1.0: the
      // body is the stream itself, no chunks.
      slow.setReceiveBufferSize(4096);
      slow.connect(new InetSocketAddress("127.0.0.1", app.service.port()));
      slow.getOutputStream()
          .write(
              ("GET "
                      + path
                      + " HTTP/1.0\r\nHost: 127.0.0.1:"
                      + app.service.port()
                      + "\r\n"
                      + "Accept: text/event-stream\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      RunningService.await("the stream open", WAIT, () -> app.service.web().hub().clients() == 1);
      for (int i = 0; i < events; i++) {
        store.append(
            category + "-" + i,
            ExpectedVersion.noStream(),
            EventData.of("Big", "{\"n\":" + i + ",\"pad\":\"" + pad + "\"}"));
      }
      // The service's feed hands each event to the hub and to this listener in the same pass.
      assertThat(dispatched.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

      List<String> all = app.logIds(EventFilter.categories(category), events, WAIT);
      List<String> before = messageIds(readUntilClosed(slow));
      assertThat(before).as("what the slow client got before it was let go").isNotEmpty();
      assertThat(before.size()).isLessThan(events);
      assertThat(before).containsExactlyElementsOf(all.subList(0, before.size()));

      try (SseClientForTests resumed =
          new SseClientForTests(app.url + path, before.get(before.size() - 1))) {
        resumed.awaitMessages(events - before.size(), WAIT);
        List<String> after = resumed.messages().stream().map(Frame::id).toList();
        assertThat(after).containsExactlyElementsOf(all.subList(before.size(), events));
      }
    }
  }

  @Test
  void a_client_resuming_from_far_back_while_events_flow_gets_each_event_once() throws Exception {
    String category = "far" + UUID.randomUUID().toString().substring(0, 6);
    int backlog = 1_500;
    int live = 200;
    List<EventData> old =
        IntStream.range(0, backlog)
            .mapToObj(i -> EventData.of("Old", "{\"n\":" + i + "}"))
            .toList();
    store.append(category + "-backlog", ExpectedVersion.noStream(), old);
    String url = app.url + "/api/events/live?category=" + category;
    try (SseClientForTests client = new SseClientForTests(url, Position.START.toString())) {
      // While it replays the backlog page by page, many more events than the buffer holds go by.
      for (int i = 0; i < live; i++) {
        store.append(
            category + "-" + i,
            ExpectedVersion.noStream(),
            EventData.of("New", "{\"n\":" + i + "}"));
      }
      client.awaitMessages(backlog + live, WAIT);
      List<String> all = app.logIds(EventFilter.categories(category), backlog + live, WAIT);
      assertThat(client.messages().stream().map(Frame::id).toList()).containsExactlyElementsOf(all);
    }
  }

  /** Reads the rest of the stream until the server closes it; fails if it stays open. */
  private static String readUntilClosed(Socket socket) throws Exception {
    socket.setSoTimeout((int) WAIT.toMillis());
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[64 * 1024];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        received.write(buffer, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server kept a client that fell behind for " + WAIT, e);
    }
    return received.toString(StandardCharsets.UTF_8);
  }

  /** The ids of the complete messages in a raw response (a frame cut off by the close is not). */
  private static List<String> messageIds(String response) {
    String body = response.substring(response.indexOf("\r\n\r\n") + 4);
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
}
