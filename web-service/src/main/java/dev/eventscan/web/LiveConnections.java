package dev.eventscan.web;

import io.javalin.http.Context;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A cap on open live (SSE) streams, in total and per client address. Each stream holds a
 * connection, its request and a bounded queue (no thread), so the default cap is generous; beyond
 * it a new stream gets 503 with Retry-After: EventSource reconnects by itself and resumes with
 * Last-Event-ID.
 */
final class LiveConnections {
  static final String PERMIT = "live-connection-permit";
  private static final String RETRY_AFTER_SECONDS = "5";

  private final int max;
  private final int maxPerClient;
  // One lock for both counts: streams open and close rarely compared to what they carry.
  private int open;
  private final Map<String, Integer> perClient = new HashMap<>();

  private final ClientAddresses clients;

  LiveConnections(int max, int maxPerClient, ClientAddresses clients) {
    this.max = max;
    this.maxPerClient = maxPerClient;
    this.clients = clients;
  }

  /**
   * Admits the request's stream, or throws 406 (the client does not take an event stream, so
   * Javalin would answer an empty 200) or 503 (full). The place is freed by {@link #stream}.
   */
  void admit(Context ctx) {
    String accept = ctx.header("Accept");
    if (accept == null || !accept.contains("text/event-stream")) {
      throw new ApiException(
          406, "not_acceptable", "this is a live event stream: send Accept: text/event-stream");
    }
    String client = clients.of(ctx);
    synchronized (this) {
      if (open >= max) {
        throw full(ctx, "the service has as many live streams open as it allows (" + max + ")");
      }
      int mine = perClient.getOrDefault(client, 0);
      if (mine >= maxPerClient) {
        throw full(
            ctx, "this client has as many live streams open as it may (" + maxPerClient + ")");
      }
      open++;
      perClient.put(client, mine + 1);
    }
    ctx.attribute(PERMIT, new Permit(client));
  }

  /**
   * What frees the request's place: run it once the stream ends (running it again does nothing).
   * The permit is taken from the request now: once the client is gone, Jetty recycles the request
   * and its attributes.
   */
  Runnable releaser(Context ctx) {
    Permit permit = (Permit) ctx.attribute(PERMIT);
    return permit == null ? () -> {} : () -> release(permit);
  }

  private void release(Permit permit) {
    if (!permit.released.getAndSet(true)) {
      synchronized (this) {
        open--;
        // Idle entries go, so the map does not grow with every address ever seen.
        perClient.computeIfPresent(permit.client, (k, n) -> n > 1 ? n - 1 : null);
      }
    }
  }

  synchronized int open() {
    return open;
  }

  private static ApiException full(Context ctx, String why) {
    ctx.header("Retry-After", RETRY_AFTER_SECONDS);
    return new ApiException(
        503, "too_many_live_connections", why + "; retry in " + RETRY_AFTER_SECONDS + " s");
  }

  private record Permit(String client, AtomicBoolean released) {
    Permit(String client) {
      this(client, new AtomicBoolean());
    }
  }
}
