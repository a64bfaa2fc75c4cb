package dev.eventscan.web;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import io.javalin.http.sse.SseClient;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One SSE client: a bounded queue filled by the live feed and drained by this client's own writer
 * thread, so a slow client only ever delays itself; when its queue overflows it is disconnected and
 * resumes with Last-Event-ID. On connect it first replays from the store what it missed, then goes
 * live, skipping what it already sent: nothing lost, nothing repeated.
 */
final class SseStream implements LiveFeed.Listener {
  static final int QUEUE_CAPACITY = 1_000;
  private static final AtomicInteger ids = new AtomicInteger();

  private final SseClient client;
  private final EventStore store;
  private final LiveFeed feed;
  private final EventFilter filter;
  private final Predicate<RecordedEvent> accepts;
  private final Function<RecordedEvent, String> afterEvent;
  private final Duration keepAlive;
  private final BlockingQueue<RecordedEvent> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
  private volatile boolean overflowed;
  private volatile boolean closed;
  private Position lastSent;

  /**
   * @param resumeAfter the client's Last-Event-ID, or null to start live
   * @param afterEvent extra data sent after each event (e.g. the scan's summary), or null
   */
  SseStream(
      SseClient client,
      EventStore store,
      LiveFeed feed,
      EventFilter filter,
      Predicate<RecordedEvent> extraFilter,
      Position resumeAfter,
      Function<RecordedEvent, String> afterEvent,
      Duration keepAlive) {
    this.client = client;
    this.store = store;
    this.feed = feed;
    this.filter = filter;
    this.accepts = event -> filter.matches(event) && extraFilter.test(event);
    this.afterEvent = afterEvent;
    this.keepAlive = keepAlive;
    this.lastSent = resumeAfter;
  }

  /** Runs on the request thread until the client goes away. */
  void run() {
    client.keepAlive();
    client.onClose(() -> closed = true);
    Position live = feed.register(this);
    Thread.currentThread().setName("sse-writer-" + ids.incrementAndGet());
    try {
      if (lastSent != null) {
        replayFrom(lastSent);
      } else {
        lastSent = live;
      }
      long nextKeepAlive = System.nanoTime() + keepAlive.toNanos();
      while (!closed && !client.terminated() && !feed.closed()) {
        RecordedEvent event = queue.poll(200, TimeUnit.MILLISECONDS);
        if (overflowed) {
          client.sendComment("overflow: reconnect with Last-Event-ID to resume");
          break;
        }
        if (event != null) {
          send(event);
        } else if (System.nanoTime() > nextKeepAlive) {
          client.sendComment("keep-alive");
          nextKeepAlive = System.nanoTime() + keepAlive.toNanos();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      feed.unregister(this);
      client.close();
    }
  }

  private void replayFrom(Position after) {
    Position cursor = after;
    GlobalLogPage page;
    do {
      page = store.readAll(cursor, filter, 500);
      for (RecordedEvent event : page.events()) {
        send(event);
      }
      cursor = page.next();
    } while (!page.endOfLog() && !closed);
  }

  private void send(RecordedEvent event) {
    if (lastSent != null && event.position().compareTo(lastSent) <= 0) {
      return; // already sent during the replay
    }
    if (!accepts.test(event)) {
      return;
    }
    // Unnamed ("message") events, the type is in the data: a browser sees every type with one
    // onmessage handler.
    client.sendEvent("message", feed.json(event), event.position().toString());
    if (afterEvent != null) {
      String extra = afterEvent.apply(event);
      if (extra != null) {
        client.sendEvent("summary", extra, event.position().toString());
      }
    }
    lastSent = event.position();
  }

  @Override
  public void offer(RecordedEvent event) {
    if (!accepts.test(event)) {
      return;
    }
    if (!queue.offer(event)) {
      overflowed = true; // the writer disconnects this client; it resumes from Last-Event-ID
    }
  }
}
