package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import dev.eventscan.web.SseClientForTests.Frame;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Server-sent events: live delivery, resume with Last-Event-ID, isolation of slow clients. */
@ExtendWith(PostgresExtension.class)
class LiveUpdatesTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static RunningService app;
  private static EventStore store;

  @BeforeAll
  static void start(TestDatabase database) throws Exception {
    app = new RunningService(database, Map.of());
    store = app.service.store();
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static String append(String category, int n) {
    String streamId = category + "-" + UUID.randomUUID();
    store.append(streamId, ExpectedVersion.noStream(), EventData.of("Ticked", "{\"n\":" + n + "}"));
    return streamId;
  }

  /**
   * The feed-lag and fan-out timers' rolling percentiles span two minutes (a benchmark's warm-up
   * included); their cumulative buckets let a reader cut out exactly the window it measured.
   */
  @Test
  void the_live_timers_publish_cumulative_buckets_that_count_each_window() throws Exception {
    String category = "lag" + UUID.randomUUID().toString().substring(0, 6);
    try (SseClientForTests client =
        new SseClientForTests(app.url + "/api/events/live?category=" + category, null)) {
      RunningService.await("connected", () -> client.status == 200);
      Thread.sleep(300); // the stream registers with the feed as it opens
      append(category, 0);
      client.awaitMessages(1, WAIT);
      long before = bucketCount(app.get("/metrics").body(), "sse_feed_lag_seconds");
      for (int i = 1; i <= 3; i++) {
        append(category, i);
      }
      client.awaitMessages(4, WAIT);
      String metrics = app.get("/metrics").body();
      assertThat(metrics).contains("sse_fan_out_seconds_bucket{le=");
      assertThat(bucketCount(metrics, "sse_feed_lag_seconds") - before).isGreaterThanOrEqualTo(3);
    }
  }

  /** The timer's +Inf bucket: everything recorded so far. */
  private static long bucketCount(String metrics, String timer) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(?m)^" + timer + "_bucket\\{le=\"\\+Inf\"\\} (\\S+)")
            .matcher(metrics);
    assertThat(m.find()).as(timer + " has buckets").isTrue();
    return (long) Double.parseDouble(m.group(1));
  }

  @Test
  void a_client_gets_events_live_and_a_reconnect_gets_exactly_the_missed_ones() throws Exception {
    String category = "tick" + UUID.randomUUID().toString().substring(0, 6);
    String url = app.url + "/api/events/live?category=" + category;
    List<Frame> first;
    try (SseClientForTests client = new SseClientForTests(url, null)) {
      RunningService.await("connected", () -> client.status == 200);
      Thread.sleep(300); // the stream registers with the feed as it opens
      for (int i = 0; i < 5; i++) {
        append(category, i);
      }
      append("other", 0);
      client.awaitMessages(5, WAIT);
      first = client.messages();
    }
    assertThat(first)
        .extracting(f -> Json.tree(f.data()).get("type").asText())
        .containsOnly("Ticked");
    JsonNode event = Json.tree(first.get(0).data());
    assertThat(event.get("position").asText()).isEqualTo(first.get(0).id());
    assertThat(event.has("metadata")).isFalse();

    String lastSeen = first.get(4).id();
    for (int i = 5; i < 8; i++) {
      append(category, i); // missed while disconnected
    }
    try (SseClientForTests resumed = new SseClientForTests(url, lastSeen)) {
      resumed.awaitMessages(3, WAIT);
      append(category, 8);
      resumed.awaitMessages(4, WAIT);
      Thread.sleep(300);
      List<Frame> messages = resumed.messages();
      assertThat(messages).hasSize(4);
      assertThat(messages)
          .extracting(f -> Json.tree(f.data()).get("data").get("n").asInt())
          .containsExactly(5, 6, 7, 8);
    }
  }

  @Test
  void a_scan_stream_sends_its_events_with_a_summary_after_each() throws Exception {
    String id = app.createScan("live.example");
    try (SseClientForTests client =
        new SseClientForTests(app.url + "/api/scans/" + id + "/live?from=0-0", null)) {
      RunningService.await(
          "completion seen",
          () -> client.messages().stream().anyMatch(f -> f.data().contains("\"ScanCompleted\"")));
      assertThat(client.messages()).allSatisfy(f -> assertThat(f.data()).contains(id));
      assertThat(client.frames)
          .anySatisfy(
              f -> {
                assertThat(f.event()).isEqualTo("summary");
                assertThat(f.data()).contains("\"status\"");
              });
      assertThat(Json.tree(client.messages().get(0).data()).get("type").asText())
          .isEqualTo("ScanRequested");
    }
  }

  @Test
  void an_events_stored_json_reaches_the_live_feed_and_the_stream_api_intact() throws Exception {
    String category = "json" + UUID.randomUUID().toString().substring(0, 6);
    String streamId = category + "-1";
    // Escapes, non-ASCII, a line separator, a number beyond long, nesting: what jsonb gives back.
    String data =
        "{\"text\":\"two\\nlines\\r \\\"quoted\\\" \\\\ \u00e9 \ud83d\ude00 \u2028 </script>\","
            + "\"big\":12345678901234567890123,\"nested\":[{\"a\":null,\"b\":[true,false]}],"
            + "\"empty\":{}}";
    store.append(
        streamId,
        ExpectedVersion.noStream(),
        EventData.of(
            "Tricky", data, new EventMetadata("corr-\"1\"", null, Map.of("note", "a\nb"))));

    Frame frame;
    try (SseClientForTests client =
        new SseClientForTests(app.url + "/api/events/live?tail=1&category=" + category, null)) {
      client.awaitMessages(1, WAIT);
      frame = client.messages().get(0);
    }
    assertThat(frame.data()).doesNotContain("\n"); // one data: line
    JsonNode live = Json.MAPPER.readTree(frame.data()); // strict: throws on invalid JSON
    JsonNode stored = Json.MAPPER.readTree(data);
    assertThat(live.get("data")).isEqualTo(stored);
    assertThat(live.get("correlationId").asText()).isEqualTo("corr-\"1\"");

    JsonNode listed = app.get("/api/streams/" + streamId).json().get("events").get(0);
    assertThat(listed.get("data")).isEqualTo(stored);
    assertThat(listed.get("metadata").get("note").asText()).isEqualTo("a\nb");
    for (String field : List.of("position", "eventId", "streamId", "version", "type")) {
      assertThat(listed.get(field)).as(field).isEqualTo(live.get(field));
    }
    assertThat(Instant.parse(live.get("recordedAt").asText()))
        .isEqualTo(Instant.parse(listed.get("recordedAt").asText()));
  }

  @Test
  void scan_viewers_get_their_first_events_while_the_read_model_is_held_back() throws Exception {
    // An open transaction with an id holds every subscription (the read model's too) below it, so
    // each viewer's summary waits (5 s) for a read model that does not move; its events must not.
    List<SseClientForTests> viewers = new ArrayList<>();
    try (java.sql.Connection holder = store.dataSource().getConnection()) {
      holder.setAutoCommit(false);
      try (java.sql.Statement statement = holder.createStatement()) {
        statement.execute("SELECT pg_current_xact_id()");
      }
      try {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 12; i++) { // three times the catch-up threads
          ids.add(app.createScan("held" + i + ".example"));
        }
        long start = System.nanoTime();
        for (String id : ids) {
          viewers.add(new SseClientForTests(app.url + "/api/scans/" + id + "/live?from=0-0", null));
        }
        for (SseClientForTests viewer : viewers) {
          viewer.awaitMessages(1, Duration.ofSeconds(30));
        }
        // Before the fix the 4 catch-up threads each waited out a summary before the next viewer's
        // first page was read: the last viewers got their first event after 10 s.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
      } finally {
        holder.rollback();
      }
    } finally {
      viewers.forEach(SseClientForTests::close);
    }
  }

  @Test
  void a_stalled_client_does_not_delay_another() throws Exception {
    String category = "stall" + UUID.randomUUID().toString().substring(0, 6);
    String url = app.url + "/api/events/live?category=" + category;
    // The stalled client connects and never reads a byte of its stream.
    HttpResponse<InputStream> stalled =
        RunningService.HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream").build(),
            HttpResponse.BodyHandlers.ofInputStream());
    try (SseClientForTests healthy = new SseClientForTests(url, null)) {
      RunningService.await("connected", () -> healthy.status == 200);
      Thread.sleep(300);
      String big = "x".repeat(20_000);
      for (int i = 0; i < 60; i++) {
        store.append(
            category + "-" + UUID.randomUUID(),
            ExpectedVersion.noStream(),
            EventData.of("Big", "{\"n\":" + i + ",\"pad\":\"" + big + "\"}"));
      }
      healthy.awaitMessages(60, WAIT);
      assertThat(healthy.messages()).hasSize(60);
    } finally {
      stalled.body().close();
    }
  }

  @Test
  void clients_resuming_from_far_back_while_events_flow_get_each_event_once_in_order()
      throws Exception {
    // The replay's one page (3 MB) takes many writes: live frames must wait behind all of it.
    resumeFromFarBackWhileEventsFlow(app, 10, 100, 300, 30_000);
  }

  /**
   * {@code clients} clients, one after another, resume from the start of a category that has {@code
   * backlog} events (with {@code pad} bytes each) while {@code live} more are appended: each gets
   * every event once, in order (resuming when the server lets it go, as EventSource does).
   */
  static void resumeFromFarBackWhileEventsFlow(
      RunningService app, int clients, int backlog, int live, int pad) throws Exception {
    EventStore events = app.service.store();
    String category = "far" + UUID.randomUUID().toString().substring(0, 6);
    String padding = "x".repeat(pad);
    events.append(
        category + "-backlog",
        ExpectedVersion.noStream(),
        IntStream.range(0, backlog)
            .mapToObj(i -> EventData.of("Old", "{\"n\":" + i + ",\"pad\":\"" + padding + "\"}"))
            .toList());
    String url = app.url + "/api/events/live?category=" + category;
    List<ResumingSseClient> resuming = new ArrayList<>();
    try {
      for (int i = 0; i < live; i++) {
        if (i % (live / clients) == 0 && resuming.size() < clients) {
          ResumingSseClient client = new ResumingSseClient(Position.START);
          client.connections.add(new SseClientForTests(url, Position.START.toString()));
          resuming.add(client);
        }
        events.append(
            category + "-" + i,
            ExpectedVersion.noStream(),
            EventData.of("New", "{\"n\":" + i + "}"));
      }
      List<String> all = app.logIds(EventFilter.categories(category), backlog + live, WAIT);
      for (ResumingSseClient client : resuming) {
        client.awaitIds(url, all.size(), WAIT);
        assertThat(client.ids()).containsExactlyElementsOf(all);
      }
    } finally {
      resuming.forEach(ResumingSseClient::close);
    }
  }

  @Test
  void a_bad_last_event_id_is_a_400() throws Exception {
    RunningService.Response response =
        app.send(
            HttpRequest.newBuilder(URI.create(app.url + "/api/events/live"))
                .header("Accept", "text/event-stream")
                .header("Last-Event-ID", "yesterday"));
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.errorMessage()).contains("position");
  }

  /**
   * The stream's bytes as a strict reader sees them: exact HTTP/1.1 chunks (the feed frames them
   * itself, past Jetty's servlet output) and, for an HTTP/1.0 client, a plain body.
   */
  @Test
  void the_stream_is_exact_http_1_1_chunks_and_a_plain_body_for_http_1_0() throws Exception {
    int port = URI.create(app.url).getPort();
    for (String version : List.of("HTTP/1.1", "HTTP/1.0")) {
      String category = "wire" + UUID.randomUUID().toString().substring(0, 6);
      try (Socket socket = new Socket("127.0.0.1", port)) {
        socket.setSoTimeout(30_000);
        socket
            .getOutputStream()
            .write(
                ("GET /api/events/live?category="
                        + category
                        + " "
                        + version
                        + "\r\n"
                        + "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
        InputStream in = new BufferedInputStream(socket.getInputStream());
        StringBuilder head = new StringBuilder();
        for (String line = crlfLine(in); !line.isEmpty(); line = crlfLine(in)) {
          head.append(line.toLowerCase(Locale.ROOT)).append('\n');
        }
        assertThat(head).as(version).startsWith("http/1.1 200");
        boolean chunked = head.indexOf("transfer-encoding: chunked") >= 0;
        assertThat(chunked).as(version).isEqualTo(version.equals("HTTP/1.1"));
        Thread.sleep(300); // the stream registers with the feed as it opens
        for (int i = 0; i < 3; i++) {
          append(category, i);
        }
        StringBuilder body = new StringBuilder();
        while (dataFrames(body).size() < 3) {
          if (chunked) {
            int size = Integer.parseInt(crlfLine(in), 16);
            assertThat(size).as("a chunk before the response's end").isPositive();
            body.append(new String(in.readNBytes(size), StandardCharsets.UTF_8));
            assertThat(crlfLine(in)).as("the CRLF that ends a chunk").isEmpty();
          } else {
            byte[] some = new byte[8192];
            int read = in.read(some);
            assertThat(read).as("more of the body").isPositive();
            body.append(new String(some, 0, read, StandardCharsets.UTF_8));
          }
        }
        assertThat(dataFrames(body))
            .extracting(data -> Json.tree(data).get("data").get("n").asInt())
            .containsExactly(0, 1, 2);
      }
    }
  }

  /** The data of each complete SSE frame with one. */
  private static List<String> dataFrames(CharSequence body) {
    String text = body.toString();
    List<String> data = new ArrayList<>();
    int end;
    for (int start = 0; (end = text.indexOf("\n\n", start)) >= 0; start = end + 2) {
      for (String line : text.substring(start, end).split("\n")) {
        if (line.startsWith("data: ")) {
          data.add(line.substring("data: ".length()));
        }
      }
    }
    return data;
  }

  /** One line that must end in CRLF (a lone CR or LF fails). */
  static String crlfLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    while (true) {
      int b = in.read();
      assertThat(b).as("the line goes on: " + line).isNotNegative();
      if (b == '\r') {
        assertThat(in.read()).as("LF after CR in: " + line).isEqualTo('\n');
        return line.toString();
      }
      assertThat(b).as("a bare LF in: " + line).isNotEqualTo('\n');
      line.append((char) b);
    }
  }
}
