package dev.eventscan.bench;

import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.web.Service;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * {@value #CLIENTS} SSE clients on {@code /api/events/live} while events are appended at 200/s for
 * 10 s: time from the append returning to each client receiving the event, p50 and p99 over all
 * deliveries. Goal: p99 < 100 ms.
 */
final class SseFanoutScenario implements Scenario {
  static final int CLIENTS = Integer.getInteger("sse.clients", 1_000);
  private static final int RATE = 200;
  private static final int SECONDS = 10;

  @Override
  public String name() {
    return "sse-fanout";
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    Map<String, Long> appendedAt = new ConcurrentHashMap<>();
    List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicInteger connected = new AtomicInteger();
    String category = "fan" + UUID.randomUUID().toString().substring(0, 6);
    try (Service service = ServiceScenarios.start(database, Map.of())) {
      String url = "http://127.0.0.1:" + service.port() + "/api/events/live?category=" + category;
      List<java.util.concurrent.CompletableFuture<?>> streams = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        streams.add(
            ServiceScenarios.HTTP.sendAsync(
                HttpRequest.newBuilder(URI.create(url))
                    .header("Accept", "text/event-stream")
                    .build(),
                HttpResponse.BodyHandlers.fromLineSubscriber(
                    new Receiver(appendedAt, latencies, connected))));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (service.liveClients() < CLIENTS && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      Thread.sleep(500);
      int total = RATE * SECONDS;
      long start = System.nanoTime();
      for (int i = 0; i < total; i++) {
        long slot = start + i * 1_000_000_000L / RATE;
        long wait = slot - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        String streamId = category + "-" + i;
        EventData event = EventData.of("Fanned", "{\"n\":" + i + "}");
        database.store().append(streamId, ExpectedVersion.noStream(), event);
        appendedAt.put(streamId, System.nanoTime());
      }
      long expected = (long) total * CLIENTS;
      long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (latencies.size() < expected && System.nanoTime() < drainDeadline) {
        Thread.sleep(50);
      }
      streams.forEach(s -> s.cancel(true));
      double[] millis = latencies.stream().mapToDouble(n -> n / 1e6).sorted().toArray();
      System.out.printf(
          Locale.ROOT,
          "# %s: %d clients, %d events, %d of %d deliveries received%n",
          name(),
          CLIENTS,
          total,
          millis.length,
          expected);
      return String.format(
          Locale.ROOT,
          "p50_ms=%.1f p99_ms=%.1f",
          percentile(millis, 0.5),
          percentile(millis, 0.99));
    }
  }

  private static double percentile(double[] sorted, double p) {
    return sorted.length == 0
        ? Double.NaN
        : sorted[(int) Math.min(sorted.length - 1, p * sorted.length)];
  }

  /** Parses SSE lines without a thread of its own; records latency per delivered event. */
  private record Receiver(
      Map<String, Long> appendedAt, List<Long> latencies, AtomicInteger connected)
      implements Flow.Subscriber<String> {
    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      connected.incrementAndGet();
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(String line) {
      int at = line.indexOf("\"streamId\":\"");
      if (line.startsWith("data:") && at > 0) {
        int from = at + 12;
        String streamId = line.substring(from, line.indexOf('"', from));
        Long appended = appendedAt.get(streamId);
        if (appended != null) {
          latencies.add(Math.max(0, System.nanoTime() - appended));
        }
      }
    }

    @Override
    public void onError(Throwable throwable) {}

    @Override
    public void onComplete() {}
  }
}
