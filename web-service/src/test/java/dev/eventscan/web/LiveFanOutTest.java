package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import dev.eventscan.web.SseClientForTests.Frame;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fan-out under churn: hundreds of clients come and go while events are appended; each gets
 * exactly the events after its start, once, in order; resuming gets exactly what was missed; and
 * nothing stays behind once they are gone.
 */
@ExtendWith(PostgresExtension.class)
class LiveFanOutTest {
  private static final int CLIENTS = 300;
  private static final int EVENTS = 600;
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static RunningService app;
  private static EventStore store;

  @BeforeAll
  static void start(TestDatabase database) throws Exception {
    app =
        new RunningService(
            database,
            Map.of("MAX_LIVE_CONNECTIONS", "2000", "MAX_LIVE_CONNECTIONS_PER_CLIENT", "2000"));
    store = app.service.store();
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void clients_that_come_and_go_get_exactly_their_events_and_leave_nothing_behind()
      throws Exception {
    LiveHub hub = app.service.web().hub();
    int busyBefore = app.service.web().threads().getBusyThreads();
    int feedSubscribersBefore = store.live().subscribers();
    String category = "churn" + UUID.randomUUID().toString().substring(0, 6);
    EventFilter filter = EventFilter.categories(category);
    String url = app.url + "/api/events/live?category=" + category;
    Random random = new Random(13);
    List<ResumingSseClient> clients = new CopyOnWriteArrayList<>();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream originalErr = System.err;
    System.setErr(new PrintStream(new TeeStream(originalErr, log), true, StandardCharsets.UTF_8));
    ScheduledExecutorService churn = Executors.newScheduledThreadPool(4);
    try {
      long appendMillis = EVENTS * 1_000L / 150; // 150 events/s
      for (int i = 0; i < CLIENTS; i++) {
        int kind = random.nextInt(3); // 0: from a position, 1: live, 2: leaves and resumes
        long connectAt = random.nextInt((int) (appendMillis * 3 / 4));
        long leaveAfter = 200 + random.nextInt(1_500);
        churn.schedule(
            () -> {
              ResumingSseClient client =
                  new ResumingSseClient(kind == 1 ? null : store.headPosition(filter));
              clients.add(client);
              client.connections.add(
                  new SseClientForTests(kind == 1 ? url : url + "&from=" + client.start, null));
              if (kind == 2) {
                client.resumes = true;
                churn.schedule(
                    () -> leaveAndResume(client, url), leaveAfter, TimeUnit.MILLISECONDS);
              }
            },
            connectAt,
            TimeUnit.MILLISECONDS);
      }
      long begin = System.nanoTime();
      for (int i = 0; i < EVENTS; i++) {
        long slot = begin + i * 1_000_000_000L / 150;
        LockSupport.parkNanos(slot - System.nanoTime()); // the append rate, not a wait
        store.append(
            category + "-" + i,
            ExpectedVersion.noStream(),
            EventData.of("Churned", "{\"n\":" + i + "}"));
      }
      RunningService.await("every client scheduled", WAIT, () -> clients.size() == CLIENTS);
      List<String> all = app.logIds(filter, EVENTS, WAIT);
      for (ResumingSseClient client : clients) {
        client.awaitIds(url, expectedFor(client, all).size(), WAIT);
      }
      for (ResumingSseClient client : clients) {
        assertThat(client.ids())
            .as("a client from %s, resuming: %s", client.start, client.resumes)
            .containsExactlyElementsOf(expectedFor(client, all));
      }
      assertThat(clients.stream().filter(c -> c.resumes).count()).isGreaterThan(50);
    } finally {
      clients.forEach(client -> client.connections.forEach(SseClientForTests::close));
      churn.shutdownNow();
    }
    try {
      // Nothing left: streams, scan channels, connection permits, queued bytes, busy threads.
      RunningService.await("all streams closed", WAIT, () -> hub.clients() == 0);
      RunningService.await(
          "permits released", WAIT, () -> app.service.web().liveConnections().open() == 0);
      RunningService.await("queues empty", WAIT, () -> SseStream.queuedBytes.get() == 0);
      RunningService.await(
          "request threads idle",
          WAIT,
          () -> app.service.web().threads().getBusyThreads() <= busyBefore);
      assertThat(hub.scanChannels()).isZero();
      assertThat(store.live().subscribers()).isEqualTo(feedSubscribersBefore);
    } finally {
      System.setErr(originalErr);
    }
    String output = log.toString(StandardCharsets.UTF_8);
    assertThat(output).doesNotContain("WARN").doesNotContain("ERROR").doesNotContain("Exception");
  }

  /** Closes the client's stream, then resumes from the last event it received. */
  private static void leaveAndResume(ResumingSseClient client, String url) {
    SseClientForTests first = client.connections.get(0);
    first.close();
    List<Frame> seen = first.messages();
    String lastId = seen.isEmpty() ? client.start.toString() : seen.get(seen.size() - 1).id();
    // Once closed, frames still in flight must not count: keep only what it had when it left.
    SseClientForTests frozen = SseClientForTests.frozen(seen);
    client.connections.set(0, frozen);
    client.connections.add(new SseClientForTests(url, lastId));
  }

  /** What a client must have received: everything after its start (or its first event), once. */
  private static List<String> expectedFor(ResumingSseClient client, List<String> all) {
    if (client.start != null) {
      List<String> after = new ArrayList<>();
      for (String id : all) {
        if (Position.parse(id).isAfter(client.start)) {
          after.add(id);
        }
      }
      return after;
    }
    List<String> received = client.ids();
    if (received.isEmpty()) {
      return List.of();
    }
    int first = all.indexOf(received.get(0));
    return first < 0
        ? List.of("(unknown " + received.get(0) + ")")
        : all.subList(first, all.size());
  }

  @Test
  void a_scan_stream_catches_up_from_its_stream_and_shares_one_summary() throws Exception {
    String id = app.createScan("shared.example");
    String url = app.url + "/api/scans/" + id + "/live?from=0-0";
    try (SseClientForTests one = new SseClientForTests(url, null);
        SseClientForTests two = new SseClientForTests(url, null)) {
      for (SseClientForTests viewer : List.of(one, two)) {
        RunningService.await(
            "completion seen",
            () -> viewer.messages().stream().anyMatch(f -> f.data().contains("\"ScanCompleted\"")));
      }
      List<String> versions =
          store.readStream("scan-" + id).events().stream()
              .map(e -> e.position().toString())
              .toList();
      assertThat(one.messages()).extracting(Frame::id).containsExactlyElementsOf(versions);
      assertThat(two.messages()).extracting(Frame::id).containsExactlyElementsOf(versions);
      assertThat(one.frames).anySatisfy(f -> assertThat(f.event()).isEqualTo("summary"));
    }
    RunningService.await(
        "the scan's channel closed", WAIT, () -> app.service.web().hub().scanChannels() == 0);
  }

  @Test
  void scan_viewers_opening_while_the_scan_runs_get_each_of_its_events_once_in_order()
      throws Exception {
    // A viewer's first page is read before it joins the scan's channel: what the scan appends in
    // between must still reach it, once.
    List<String> ids = new ArrayList<>();
    List<SseClientForTests> viewers = new ArrayList<>();
    Map<SseClientForTests, String> scanOf = new java.util.HashMap<>();
    try {
      for (int scan = 0; scan < 4; scan++) {
        String id = app.createScan("opening" + scan + ".example");
        ids.add(id);
        for (int i = 0; i < 6; i++) {
          SseClientForTests viewer =
              new SseClientForTests(app.url + "/api/scans/" + id + "/live?from=0-0", null);
          viewers.add(viewer);
          scanOf.put(viewer, id);
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(15));
        }
      }
      for (SseClientForTests viewer : viewers) {
        try {
          RunningService.await(
              "completion seen",
              WAIT,
              () ->
                  viewer.messages().stream().anyMatch(f -> f.data().contains("\"ScanCompleted\"")));
        } catch (AssertionError e) {
          // Which side failed: the scan (the store has no completion) or the viewer's stream.
          List<String> stored =
              store.readStream("scan-" + scanOf.get(viewer)).events().stream()
                  .map(event -> event.type() + "@" + event.position())
                  .toList();
          List<String> received = viewer.messages().stream().map(Frame::id).toList();
          throw new AssertionError(
              e.getMessage() + "; the scan's stream: " + stored + "; the viewer got: " + received,
              e);
        }
      }
      for (SseClientForTests viewer : viewers) {
        List<String> positions =
            store.readStream("scan-" + scanOf.get(viewer)).events().stream()
                .map(e -> e.position().toString())
                .toList();
        assertThat(viewer.messages()).extracting(Frame::id).containsExactlyElementsOf(positions);
      }
      // Resuming inside the scan's own events needs no look at the log's head, and skips them.
      List<String> positions =
          store.readStream("scan-" + ids.get(0)).events().stream()
              .map(e -> e.position().toString())
              .toList();
      try (SseClientForTests resumed =
          new SseClientForTests(
              app.url + "/api/scans/" + ids.get(0) + "/live?from=" + positions.get(1), null)) {
        resumed.awaitMessages(positions.size() - 2, WAIT);
        RunningService.await(
            "the summary", WAIT, () -> resumed.frames.size() > positions.size() - 2);
        assertThat(resumed.messages())
            .extracting(Frame::id)
            .containsExactlyElementsOf(positions.subList(2, positions.size()));
      }
    } finally {
      viewers.forEach(SseClientForTests::close);
    }
    RunningService.await(
        "the scans' channels closed", WAIT, () -> app.service.web().hub().scanChannels() == 0);
  }

  /**
   * Thousands of EventSource clients connecting at once overflowed the JVM's default accept backlog
   * (50): the kernel dropped their handshakes and the load generator saw failed connects.
   */
  @Test
  void the_listening_socket_queues_thousands_of_connects_for_the_acceptor() throws Exception {
    Path somaxconn = Path.of("/proc/sys/net/core/somaxconn");
    Assumptions.assumeTrue(Files.isReadable(somaxconn), "Linux only");
    Process ss = new ProcessBuilder("ss", "-Hltn", "sport = :" + app.service.port()).start();
    String listening = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(ss.waitFor()).isZero();
    // For a listening socket ss shows the backlog as Send-Q: "LISTEN 0 4096 127.0.0.1:port ...".
    int backlog = Integer.parseInt(listening.strip().split("\\s+")[2]);
    int kernelCap; // Files.readString trusts the size procfs reports and returned "4" of "4096"
    try (var in = Files.newInputStream(somaxconn)) {
      kernelCap =
          Integer.parseInt(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
    }
    assertThat(backlog).isEqualTo(Math.min(WebApp.ACCEPT_QUEUE, kernelCap));
  }

  @Test
  void the_global_feed_sends_the_last_n_events_on_connect_then_live() throws Exception {
    String category = "tail" + UUID.randomUUID().toString().substring(0, 6);
    for (int i = 0; i < 5; i++) {
      store.append(
          category + "-" + i, ExpectedVersion.noStream(), EventData.of("T", "{\"n\":" + i + "}"));
    }
    try (SseClientForTests client =
        new SseClientForTests(app.url + "/api/events/live?tail=3&category=" + category, null)) {
      client.awaitMessages(3, WAIT);
      store.append(category + "-5", ExpectedVersion.noStream(), EventData.of("T", "{\"n\":5}"));
      client.awaitMessages(4, WAIT);
      assertThat(client.messages())
          .extracting(f -> Json.tree(f.data()).get("data").get("n").asInt())
          .containsExactly(2, 3, 4, 5);
    }
    RunningService.Response tooMany =
        app.send(
            HttpRequest.newBuilder(URI.create(app.url + "/api/events/live?tail=100000"))
                .header("Accept", "text/event-stream"));
    assertThat(tooMany.status()).isEqualTo(400);
  }

  /** Copies what the service logs while still showing it. */
  private static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public synchronized void write(int c) throws java.io.IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public synchronized void write(byte[] bytes, int off, int len) throws java.io.IOException {
      a.write(bytes, off, len);
      b.write(bytes, off, len);
    }
  }
}
