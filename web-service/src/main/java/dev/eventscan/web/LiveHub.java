package dev.eventscan.web;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.live.LiveListener;
import dev.eventscan.eventstore.live.LiveSubscription;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.ReadDirection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamSlice;
import dev.eventscan.web.SseStream.CatchUp;
import dev.eventscan.web.SseStream.Frame;
import io.javalin.http.Context;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * Fans the live feed out to every SSE client: one subscription to the library's live events ({@link
 * EventStore#live()}) for the whole service, each event serialized once into an SSE frame and
 * appended once to a {@link FrameLog} per distinct filter that matches it, whatever the number of
 * clients; each client keeps a cursor into its log and a small pool of writers copies what is new
 * to it with non-blocking output (see {@link SseStream}). Per-scan streams go through a {@link
 * ScanChannel} per watched scan, which adds the summary once per event for all its viewers. Clients
 * join their log under the lock that hands out events, so each learns exactly the position after
 * which it sees every event.
 */
final class LiveHub implements AutoCloseable {
  private static final int PAGE = 500;

  /**
   * Scan viewers whose catch-up may wait for the read model at once (up to its 5 s each); more wait
   * their turn. Their own pool: such a wait must hold up neither other clients' catch-up reads nor
   * the live summaries.
   */
  private static final int SUMMARY_WAITS = 64;

  private final EventStore store;
  private final LiveSubscription feed;
  private final Set<Consumer<RecordedEvent>> observers = ConcurrentHashMap.newKeySet();
  private final Duration keepAlive;
  private final int bufferEvents;
  private final BiFunction<String, RecordedEvent, String> summaryAfter;
  private final Timer feedLag;
  private final Timer fanOut;
  private final ExecutorService writers;
  private final ExecutorService readers;
  private final ExecutorService summaries;
  private final ExecutorService summaryWaits;
  private final ScheduledExecutorService ticker;
  private final int writerCount;
  private final Map<EventFilter, FrameLog> feeds = new HashMap<>(); // guarded by dispatch
  private final Map<String, ScanChannel> channels = new ConcurrentHashMap<>();
  private final Set<SseStream> streams = ConcurrentHashMap.newKeySet();
  private final Object dispatch = new Object();
  private Position lastDispatched; // guarded by dispatch

  /**
   * @param bufferEvents frames kept per feed for clients that are behind (beyond: disconnected)
   * @param summaryAfter (scan id, event) → the scan's summary JSON once the read model has the
   *     event, or null; may block for a while, it runs on its own threads
   * @param feedLag records how late events reach the hub (their recordedAt to now)
   * @param fanOut records how long a frame took from the hub to the clients' sockets (see {@link
   *     FrameLog})
   */
  LiveHub(
      EventStore store,
      Duration keepAlive,
      int bufferEvents,
      BiFunction<String, RecordedEvent, String> summaryAfter,
      Timer feedLag,
      Timer fanOut) {
    this.store = store;
    this.keepAlive = keepAlive;
    this.bufferEvents = bufferEvents;
    this.summaryAfter = summaryAfter;
    this.feedLag = feedLag;
    this.fanOut = fanOut;
    this.writerCount = Math.max(2, Runtime.getRuntime().availableProcessors());
    this.writers = Executors.newFixedThreadPool(writerCount, threads("sse-writer"));
    this.readers = Executors.newFixedThreadPool(4, threads("sse-catch-up"));
    this.summaries = Executors.newFixedThreadPool(2, threads("sse-summary"));
    this.summaryWaits = waitingPool(SUMMARY_WAITS, threads("sse-summary-wait"));
    this.ticker = Executors.newSingleThreadScheduledExecutor(threads("sse-keep-alive"));
    // Not under dispatch: the library calls offer under its own lock.
    this.feed =
        store
            .live()
            .subscribeFromNow(
                EventFilter.all(),
                new LiveListener() {
                  @Override
                  public void onEvent(RecordedEvent event) {
                    offer(List.of(event));
                  }

                  @Override
                  public void onEvents(List<RecordedEvent> events) {
                    offer(events);
                  }
                });
    synchronized (dispatch) {
      if (lastDispatched == null) { // offer may have run already
        lastDispatched = feed.position();
      }
    }
    ticker.scheduleWithFixedDelay(this::keepAlives, 1, 1, TimeUnit.SECONDS);
  }

  /** The global feed: {@code tail} last events, or from {@code resumeAfter}, or live. */
  void openGlobal(
      Context ctx, EventFilter filter, Position resumeAfter, int tail, Runnable release) {
    AsyncContext async = startStream(ctx, release);
    if (async == null) {
      return;
    }
    try {
      synchronized (dispatch) {
        Position liveAfter = lastDispatched;
        CatchUp catchUp = null;
        if (resumeAfter != null) {
          catchUp = replay(filter, resumeAfter);
        } else if (tail > 0) {
          catchUp = tail(filter, tail, liveAfter);
        }
        FrameLog log = feeds.computeIfAbsent(filter, f -> newLog());
        try {
          SseStream stream =
              SseStream.open(
                  async,
                  writers,
                  readers,
                  catchUp,
                  catchUp == null ? liveAfter : resumeAfter,
                  log,
                  s -> {
                    leaveFeed(filter, log, s);
                    ended(s, release);
                  });
          begin(ctx, stream);
        } finally {
          leaveFeed(filter, log, null); // drops the log if opening failed and no one else reads it
        }
      }
    } catch (IOException e) {
      abandon(async, release);
    }
  }

  /** A scan stream's first page, read before its stream opens (see {@link #openScan}). */
  StreamSlice firstScanPage(String streamId) {
    return store.readStream(streamId, 1, PAGE, ReadDirection.FORWARDS);
  }

  /**
   * A scan's stream: its events from {@code resumeAfter} (or the start), then live; {@code
   * firstPage} is its {@link #firstScanPage}, which the viewer gets first.
   */
  void openScan(
      Context ctx, String scanId, StreamSlice firstPage, Position resumeAfter, Runnable release) {
    String streamId = firstPage.streamId();
    AsyncContext async = startStream(ctx, release);
    if (async == null) {
      return;
    }
    try {
      SseStream[] self = new SseStream[1];
      channels.compute(
          streamId,
          (id, existing) -> {
            ScanChannel joined =
                existing != null
                    ? existing
                    : new ScanChannel(
                        scanId, summaries, event -> summaryAfter.apply(scanId, event), newLog());
            try {
              self[0] =
                  SseStream.open(
                      async,
                      writers,
                      readers,
                      scanReplay(firstPage, resumeAfter, joined),
                      null,
                      joined.frames(),
                      s -> {
                        leave(streamId, s);
                        ended(s, release);
                      });
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e); // a new channel is not kept
            }
            return joined;
          });
      register(ctx, self[0]);
      // The scan's first page (read before the headers) is queued on this request's thread: the
      // viewer's first events go out with the first write, not after two hops between pools.
      self[0].startWithFirstPage();
    } catch (java.io.UncheckedIOException e) {
      abandon(async, release);
    }
  }

  /** Sees every event too, but is not a client (metrics, the simulator); must never block. */
  void observe(Consumer<RecordedEvent> observer) {
    observers.add(observer);
  }

  /**
   * One read of the live feed: each event serialized once (if some feed wants it) and appended to
   * every log whose filter matches it; the logs' clients are woken once for the whole read, so they
   * get it in one write each.
   */
  private void offer(List<RecordedEvent> events) {
    Instant now = Instant.now();
    for (RecordedEvent event : events) {
      feedLag.record(Duration.between(event.recordedAt(), now));
      observers.forEach(observer -> observer.accept(event));
    }
    List<FrameLog> appendedTo;
    synchronized (dispatch) {
      for (RecordedEvent event : events) {
        Frame frame = null;
        for (Map.Entry<EventFilter, FrameLog> feed : feeds.entrySet()) {
          if (feed.getKey().matches(event)) {
            if (frame == null) {
              frame = eventFrame(event);
            }
            feed.getValue().append(frame);
          }
        }
        ScanChannel channel = channels.get(event.streamId());
        if (channel != null) {
          channel.offer(event);
        }
      }
      appendedTo = List.copyOf(feeds.values());
      lastDispatched = events.get(events.size() - 1).position();
    }
    // Outside dispatch: a pass may write here, and a client it closes leaves its feed under it.
    appendedTo.forEach(FrameLog::wakeIfAppended);
  }

  /** Open streams (the connection cap counts requests; this counts what is registered). */
  int clients() {
    return streams.size();
  }

  /** Scans with at least one viewer. */
  int scanChannels() {
    return channels.size();
  }

  // --- stream lifecycle ---

  /** Sends the headers and makes the request asynchronous; null when the client is gone already. */
  private static AsyncContext startStream(Context ctx, Runnable release) {
    HttpServletResponse res = ctx.res();
    res.setStatus(200);
    res.setCharacterEncoding("UTF-8");
    res.setContentType("text/event-stream");
    res.setHeader("Cache-Control", "no-cache");
    res.setHeader("X-Accel-Buffering", "no"); // proxies must not buffer the stream
    try {
      res.flushBuffer();
    } catch (IOException e) {
      release.run();
      return null;
    }
    AsyncContext async = ctx.req().startAsync();
    async.setTimeout(0); // keep-alives and write failures end it, not a timer
    return async;
  }

  private void begin(Context ctx, SseStream stream) {
    register(ctx, stream);
    stream.start();
  }

  private void register(Context ctx, SseStream stream) {
    streams.add(stream);
    // Javalin completes the request (after-handlers, metrics) once the stream ends.
    ctx.future(stream::done);
  }

  private void ended(SseStream stream, Runnable release) {
    streams.remove(stream);
    release.run();
  }

  private static void abandon(AsyncContext async, Runnable release) {
    release.run();
    async.complete();
  }

  /** A client leaves its feed's log (null: none); the log goes with its last client. */
  private void leaveFeed(EventFilter filter, FrameLog log, SseStream stream) {
    synchronized (dispatch) {
      boolean empty = stream == null ? log.readers() == 0 : log.leave(stream);
      if (empty) {
        feeds.remove(filter, log);
      }
    }
  }

  private FrameLog newLog() {
    return new FrameLog(bufferEvents, writers, writerCount, fanOut);
  }

  private void leave(String streamId, SseStream stream) {
    channels.computeIfPresent(streamId, (id, channel) -> channel.leave(stream) ? null : channel);
  }

  private void keepAlives() {
    long idle = keepAlive.toNanos();
    for (SseStream stream : streams) {
      try {
        stream.keepAlive(idle, 2 * idle + TimeUnit.SECONDS.toNanos(5));
      } catch (RuntimeException e) {
        stream.close(true);
      }
    }
  }

  // --- catch-up sources ---

  /** Everything matching after {@code after}, page by page, until the end of the log. */
  private CatchUp replay(EventFilter filter, Position after) {
    Position[] cursor = {after};
    return () -> {
      GlobalLogPage page = store.readAll(cursor[0], filter, PAGE);
      cursor[0] = page.next();
      return new CatchUp.Page(frames(page.events()), page.endOfLog()).now();
    };
  }

  /** The last {@code count} matching events, then whatever came after them. */
  private CatchUp tail(EventFilter filter, int count, Position liveAfter) {
    CatchUp[] rest = {null};
    return () -> {
      if (rest[0] != null) {
        return rest[0].next();
      }
      List<RecordedEvent> latest = new ArrayList<>(store.readLatest(filter, count));
      Collections.reverse(latest);
      Position newest = latest.isEmpty() ? liveAfter : latest.get(latest.size() - 1).position();
      rest[0] = replay(filter, newest);
      return new CatchUp.Page(frames(latest), false).now();
    };
  }

  /**
   * A scan stream read by version (not the global log), starting with {@code firstPage}, then its
   * current summary in a page of its own, so the first events do not wait for the read model. The
   * first page was read before the viewer joined the channel's log: what came between is in the
   * next read, which always follows it.
   */
  private CatchUp scanReplay(StreamSlice firstPage, Position after, ScanChannel channel) {
    String streamId = firstPage.streamId();
    StreamSlice[] unsent = {firstPage};
    long[] nextVersion = {firstPage.nextVersion(ReadDirection.FORWARDS)};
    RecordedEvent[] newest = {null};
    boolean[] summaryDue = {false};
    return () -> {
      if (summaryDue[0]) {
        summaryDue[0] = false;
        RecordedEvent last = newest[0];
        return CompletableFuture.supplyAsync( // waits for the read model: not on a reader
            () -> {
              Frame summary = channel.summaryFrame(last);
              return new CatchUp.Page(summary == null ? List.of() : List.of(summary), true);
            },
            summaryWaits);
      }
      StreamSlice slice = unsent[0];
      boolean first = slice != null;
      if (first) {
        unsent[0] = null;
      } else {
        slice = store.readStream(streamId, nextVersion[0], PAGE, ReadDirection.FORWARDS);
        nextVersion[0] = slice.nextVersion(ReadDirection.FORWARDS);
      }
      List<Frame> frames = new ArrayList<>();
      for (RecordedEvent event : slice.events()) {
        if (after == null || event.position().isAfter(after)) {
          frames.add(eventFrame(event));
          newest[0] = event;
        }
      }
      boolean end = !first && (slice.endOfStream() || slice.events().isEmpty());
      summaryDue[0] = end && newest[0] != null; // the summary follows as a page of its own
      return new CatchUp.Page(frames, end && !summaryDue[0]).now();
    };
  }

  private static List<Frame> frames(List<RecordedEvent> events) {
    List<Frame> frames = new ArrayList<>(events.size());
    for (RecordedEvent event : events) {
      frames.add(eventFrame(event));
    }
    return frames;
  }

  // --- frames ---

  /** An unnamed ("message") event: a browser sees every type with one onmessage handler. */
  static Frame eventFrame(RecordedEvent event) {
    ByteArrayOutputStream text = new ByteArrayOutputStream(event.data().length() + 320);
    text.writeBytes(frameHead(null, event.position()));
    Json.writeTo(text, Json.event(event)); // straight into the frame: no String in between
    text.writeBytes(FRAME_END);
    return new Frame(event.position(), text.toByteArray());
  }

  static byte[] frame(String name, Position id, String data) {
    byte[] head = frameHead(name, id);
    byte[] body = data.getBytes(StandardCharsets.UTF_8);
    byte[] frame = Arrays.copyOf(head, head.length + body.length + FRAME_END.length);
    System.arraycopy(body, 0, frame, head.length, body.length);
    System.arraycopy(FRAME_END, 0, frame, head.length + body.length, FRAME_END.length);
    return frame;
  }

  // Compact JSON has no line breaks (nor has jsonb's text form); a multi-line value would need one
  // data: line each.
  private static final byte[] FRAME_END = "\n\n".getBytes(StandardCharsets.UTF_8);

  private static byte[] frameHead(String name, Position id) {
    return ((name == null ? "" : "event: " + name + "\n") + "id: " + id + "\ndata: ")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Up to {@code size} threads, started when needed and ended after a while without work. */
  private static ExecutorService waitingPool(int size, ThreadFactory threads) {
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            size, size, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), threads);
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  private static ThreadFactory threads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + n.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /** Ends every stream (clients reconnect elsewhere or later), then the threads. */
  @Override
  public void close() {
    feed.close();
    for (SseStream stream : List.copyOf(streams)) {
      stream.close(false);
    }
    ticker.shutdownNow();
    summaries.shutdownNow();
    summaryWaits.shutdownNow();
    readers.shutdownNow();
    writers.shutdown();
    try {
      writers.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
