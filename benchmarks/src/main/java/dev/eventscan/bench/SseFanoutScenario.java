package dev.eventscan.bench;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.web.Service;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code clients} SSE clients in a separate process ({@link SseLoadGenerator}) while events are
 * appended at {@code rate}/s for {@value #SECONDS} s: per delivery, the time from the append
 * returning to the client's receipt. The same generator, rate and clients then run against nginx +
 * nchan (Debian's {@code libnginx-mod-nchan}), which gets the same JSON published by HTTP POST; its
 * latency runs from the publish returning. Ours and nchan alternate, {@code -Dsse.runs} times
 * (default 3), and the medians are printed: {@code ours_p99_ms=... nchan_p99_ms=... ratio=<nchan
 * p99 / ours p99>}.
 */
final class SseFanoutScenario implements Scenario {
  private static final int SECONDS = Integer.getInteger("sse.seconds", 10);
  private static final int RUNS = Integer.getInteger("sse.runs", 3);
  private static final int WARM_UP_SECONDS = Integer.getInteger("sse.warmup", 2);
  private static final Path NCHAN_MODULE = Path.of("/usr/lib/nginx/modules/ngx_nchan_module.so");
  private static final Pattern RESULT =
      Pattern.compile(
          "RESULT delivered=(\\d+) expected=(\\d+) p50_ms=(\\S+) p99_ms=(\\S+) p999_ms=(\\S+)"
              + " reconnects=(\\d+) failed_connects=(\\d+) refused=(\\d+)");

  private final int clients;
  private final int rate;
  private final List<Double> feedLagP99 = new ArrayList<>();
  private final List<Double> fanOutP99 = new ArrayList<>();

  SseFanoutScenario(int clients, int rate) {
    this.clients = clients;
    this.rate = rate;
  }

  @Override
  public String name() {
    return "sse-fanout-" + clients;
  }

  /** One run's outcome as the generator reports it, with the server's size while it ran. */
  private record Run(
      long delivered,
      long expected,
      double p50,
      double p99,
      double p999,
      long reconnects,
      long failedConnects,
      long refused,
      long rssMb,
      long threads) {
    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "%d/%d p50=%.1f p99=%.1f p99.9=%.1f reconnects=%d failed_connects=%d refused=%d"
              + " rss=%dMB threads=%d",
          delivered,
          expected,
          p50,
          p99,
          p999,
          reconnects,
          failedConnects,
          refused,
          rssMb,
          threads);
    }
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    boolean nchan = Files.exists(NCHAN_MODULE) && nginx() != null;
    if (!nchan) {
      System.out.println("# " + name() + ": nginx + nchan not installed; its column is left out");
    }
    List<Run> ours = new ArrayList<>();
    List<Run> peer = new ArrayList<>();
    for (int run = 0; run < RUNS; run++) {
      ours.add(runOurs(database));
      System.out.println("# " + name() + " ours  " + ours.get(ours.size() - 1));
      if (nchan) {
        peer.add(runNchan());
        System.out.println("# " + name() + " nchan " + peer.get(peer.size() - 1));
      }
    }
    double oursP99 = median(ours, Run::p99);
    StringBuilder line =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "clients=%d rate=%d ours_delivered=%s ours_p50_ms=%.1f ours_p99_ms=%.1f"
                    + " ours_p999_ms=%.1f ours_feed_lag_p99_ms=%.0f ours_fan_out_p99_ms=%.1f"
                    + " ours_rss_mb=%.0f"
                    + " ours_threads=%.0f",
                clients,
                rate,
                ours.stream().allMatch(r -> r.delivered() == r.expected()) ? "all" : "MISSING",
                median(ours, Run::p50),
                oursP99,
                median(ours, Run::p999),
                median(feedLagP99),
                median(fanOutP99),
                median(ours, r -> r.rssMb()),
                median(ours, r -> r.threads())));
    if (nchan) {
      double nchanP99 = median(peer, Run::p99);
      line.append(
          String.format(
              Locale.ROOT,
              " nchan_delivered=%s nchan_p99_ms=%.1f nchan_rss_mb=%.0f ratio=%.2f",
              peer.stream().allMatch(r -> r.delivered() == r.expected()) ? "all" : "MISSING",
              nchanP99,
              median(peer, r -> r.rssMb()),
              nchanP99 / oursP99));
    }
    return line.toString();
  }

  private Run runOurs(BenchmarkDatabase database) throws Exception {
    String category = "fan" + UUID.randomUUID().toString().substring(0, 6);
    try (Service service = ServiceScenarios.start(database, Map.of())) {
      String url = "http://127.0.0.1:" + service.port() + "/api/events/live?category=" + category;
      try (Generator generator = new Generator(name() + " ours ", url, clients)) {
        long pid = ProcessHandle.current().pid();
        long[] size = new long[2];
        Position[] positions = new Position[rate * SECONDS];
        warmUp(i -> appendOurs(database, category, "w" + i, "{\"warmup\":" + i + "}"));
        long[] appendedAt;
        String before = metrics(service); // the window starts after the warm-up
        try (BarrierProbe barrier = new BarrierProbe(database.jdbcUrl())) {
          appendedAt =
              PacedAppends.run(
                  rate,
                  SECONDS,
                  i ->
                      positions[i] =
                          appendOurs(database, category, Integer.toString(i), "{\"n\":" + i + "}"),
                  () -> {
                    size[0] = rssMb(pid);
                    size[1] = ManagementFactory.getThreadMXBean().getThreadCount();
                  });
          Thread.sleep(500); // the probe sees the last events below the barrier
          barrier.report(name() + " ours", positions, appendedAt);
        }
        Run result = generator.result(appendedAt, size[0], size[1]);
        String after = metrics(service);
        HistogramWindow lag = window(before, after, "sse_feed_lag_seconds");
        HistogramWindow fanOut = window(before, after, "sse_fan_out_seconds");
        feedLagP99.add(lag.quantileMs(0.99));
        fanOutP99.add(fanOut.quantileMs(0.99));
        System.out.printf(
            Locale.ROOT,
            "# %s ours  measured window only: feed lag (recordedAt to the hub): p50=%.1f"
                + " p99=%.1f ms over %.0f events; fan-out (hub to every client's socket, per"
                + " pass): p50=%.1f p99=%.1f ms, %.0f passes%n",
            name(),
            lag.quantileMs(0.5),
            lag.quantileMs(0.99),
            lag.count(),
            fanOut.quantileMs(0.5),
            fanOut.quantileMs(0.99),
            fanOut.count());
        return result;
      }
    }
  }

  /**
   * {@code sse_feed_lag} (how late events reach the fan-out, which the fan-out cannot make up for)
   * and {@code sse_fan_out} (what the fan-out adds before the bytes are in the clients' sockets),
   * between two scrapes of the service's /metrics: the measured appends only, not the warm-up.
   */
  private static HistogramWindow window(String before, String after, String timer) {
    return HistogramWindow.scrape(after, timer).since(HistogramWindow.scrape(before, timer));
  }

  private static String metrics(Service service) throws Exception {
    return ServiceScenarios.HTTP
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private Run runNchan() throws Exception {
    int port = freePort();
    Path dir = Files.createTempDirectory("nchan");
    Files.writeString(dir.resolve("nginx.conf"), nginxConfig(dir, port));
    Process nginx =
        new ProcessBuilder(
                nginx(), "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("nginx.out").toFile())
            .start();
    try {
      String base = "http://127.0.0.1:" + port;
      awaitListening(base + "/health");
      try (Generator generator = new Generator(name() + " nchan", base + "/sub", clients)) {
        long[] size = new long[2];
        warmUp(i -> publish(base, nchanMessage("warmup", i)));
        long[] appendedAt =
            PacedAppends.run(
                rate,
                SECONDS,
                i -> publish(base, nchanMessage("n", i)),
                () -> {
                  size[0] = rssMb(nginx.toHandle());
                  size[1] = threads(nginx.toHandle());
                });
        return generator.result(appendedAt, size[0], size[1]);
      }
    } finally {
      nginx.destroy();
      nginx.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /**
   * A few seconds (-Dsse.warmup, default 2) of the same appends before the measured ones, whose
   * data has no {@code "n"} so the generator does not count them: the measurement is of a running
   * server (JIT-compiled paths, pools filled), for ours and nchan alike.
   */
  private void warmUp(PacedAppends.Append append) throws Exception {
    if (WARM_UP_SECONDS > 0) {
      PacedAppends.run(rate, WARM_UP_SECONDS, append, () -> {});
    }
  }

  private static Position appendOurs(
      BenchmarkDatabase database, String category, String stream, String data) {
    return database
        .store()
        .append(category + "-" + stream, ExpectedVersion.noStream(), EventData.of("Fanned", data))
        .lastPosition();
  }

  private static Object publish(String base, String message) throws Exception {
    return ServiceScenarios.HTTP.send(
        HttpRequest.newBuilder(URI.create(base + "/pub"))
            .POST(HttpRequest.BodyPublishers.ofString(message))
            .build(),
        HttpResponse.BodyHandlers.discarding());
  }

  /** The shape of what our feed sends for the same event, so both carry about as many bytes. */
  private static String nchanMessage(String key, int i) {
    return "{\"position\":\"1000:"
        + i
        + "\",\"eventId\":\""
        + UUID.randomUUID()
        + "\",\"streamId\":\"fan-"
        + i
        + "\",\"streamVersion\":1,\"type\":\"Fanned\",\"data\":{\""
        + key
        + "\":"
        + i
        + "},\"recordedAt\":\""
        + java.time.Instant.now()
        + "\"}";
  }

  /** The load generator's process and its protocol. */
  private static final class Generator implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final String label;

    Generator(String label, String url, int clients) throws Exception {
      this.label = label;
      String classpath = System.getProperty("java.class.path");
      process =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx512m",
                  "-XX:+UseSerialGC",
                  "-cp",
                  classpath,
                  SseLoadGenerator.class.getName(),
                  url,
                  Integer.toString(clients))
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine(); // blocks until every client has its headers
      if (line == null || !line.startsWith("CONNECTED")) {
        throw new IllegalStateException("load generator did not connect: " + line);
      }
    }

    Run result(long[] appendedAt, long rssMb, long threads) throws IOException {
      PrintWriter in = new PrintWriter(process.getOutputStream(), false, StandardCharsets.UTF_8);
      in.println("APPENDED " + appendedAt.length);
      for (long at : appendedAt) {
        in.println(at);
      }
      in.flush();
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("# ")) {
          System.out.println("# " + label + " " + line.substring(2));
          continue;
        }
        Matcher m = RESULT.matcher(line);
        if (m.find()) {
          return new Run(
              Long.parseLong(m.group(1)),
              Long.parseLong(m.group(2)),
              Double.parseDouble(m.group(3)),
              Double.parseDouble(m.group(4)),
              Double.parseDouble(m.group(5)),
              Long.parseLong(m.group(6)),
              Long.parseLong(m.group(7)),
              Long.parseLong(m.group(8)),
              rssMb,
              threads);
        }
      }
      throw new IllegalStateException("load generator ended without a result");
    }

    @Override
    public void close() throws Exception {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static String nginxConfig(Path dir, int port) {
    return """
        load_module %s;
        worker_processes auto;
        worker_rlimit_nofile 20000;
        daemon off;
        pid %s/nginx.pid;
        error_log %s/error.log warn;
        events { worker_connections 16000; }
        http {
          access_log off;
          client_body_temp_path %s/body;
          proxy_temp_path %s/proxy;
          fastcgi_temp_path %s/fastcgi;
          uwsgi_temp_path %s/uwsgi;
          scgi_temp_path %s/scgi;
          server {
            listen 127.0.0.1:%d;
            location = /health { return 200 "up"; }
            location = /pub {
              nchan_publisher;
              nchan_channel_id fanout;
              nchan_message_buffer_length 1000;
              nchan_message_timeout 5m;
            }
            location = /sub {
              nchan_subscriber eventsource;
              nchan_channel_id fanout;
            }
          }
        }
        """
        .formatted(NCHAN_MODULE, dir, dir, dir, dir, dir, dir, dir, port);
  }

  private static String nginx() {
    for (String candidate : List.of("/usr/sbin/nginx", "/usr/bin/nginx")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    return null;
  }

  private static void awaitListening(String url) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        ServiceScenarios.HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).build(),
            HttpResponse.BodyHandlers.discarding());
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("nginx did not start", e);
        }
        Thread.sleep(20);
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static long rssMb(long pid) {
    return status(pid, "VmRSS:") / 1024;
  }

  /** nginx's master and workers together. */
  private static long rssMb(ProcessHandle nginx) {
    long kb = status(nginx.pid(), "VmRSS:");
    for (ProcessHandle worker : nginx.children().toList()) {
      kb += status(worker.pid(), "VmRSS:");
    }
    return kb / 1024;
  }

  private static long threads(ProcessHandle nginx) {
    long threads = status(nginx.pid(), "Threads:");
    for (ProcessHandle worker : nginx.children().toList()) {
      threads += status(worker.pid(), "Threads:");
    }
    return threads;
  }

  /** A number from /proc/<pid>/status (kB for memory). */
  private static long status(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).strip().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return -1;
  }

  private interface Value {
    double of(Run run);
  }

  private static double median(List<Double> values) {
    return values.stream()
        .mapToDouble(d -> d)
        .sorted()
        .skip(values.size() / 2)
        .findFirst()
        .orElse(Double.NaN);
  }

  private static double median(List<Run> runs, Value value) {
    return median(runs.stream().map(value::of).toList());
  }

  static List<Scenario> all() {
    return Arrays.asList(
        new SseFanoutScenario(1_000, 200),
        new SseFanoutScenario(5_000, 20),
        new SseFanoutScenario(10, 1_000));
  }
}
