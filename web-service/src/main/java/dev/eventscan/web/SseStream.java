package dev.eventscan.web;

import dev.eventscan.eventstore.position.Position;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.WriteListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.eclipse.jetty.ee10.servlet.HttpOutput;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.http.HttpGenerator;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Callback;

/**
 * One SSE client, written to without blocking: no thread waits for a client. Live frames
 * (serialized once) stay in the feed's shared {@link FrameLog}; the client keeps only its cursor
 * there. A writer from a small shared pool copies everything between the cursor and the log's head
 * into one write, as one HTTP/1.1 chunk straight to the connection (the servlet output for other
 * protocols), and when the socket is full it simply returns: the write's completion (or Jetty's
 * {@link #onWritePossible}) drains on.
 *
 * <p>A client that fell behind the frames the log keeps is disconnected and resumes with
 * Last-Event-ID. While it catches up from the store, its cursor stays where it joined the log, so
 * the live frames wait there; replay is paced by the client (the next page is read once the last
 * one was written), and whatever the replay already sent is never sent again: nothing lost, nothing
 * repeated. Replay pages and keep-alives go through a small queue of the client's own.
 */
final class SseStream implements WriteListener, AsyncListener {
  /** Coalesced writes stop growing here; the rest follows in the next write. */
  private static final int MAX_WRITE_BYTES = 64 * 1024;

  /** Bytes of replay pages and keep-alives queued for all clients (a leak check, and a metric). */
  static final AtomicLong queuedBytes = new AtomicLong();

  /** What a client receives: the bytes of one SSE frame (or more, sharing one position). */
  record Frame(Position position, byte[] bytes) {
    static Frame comment(String text) {
      return new Frame(
          null, (": " + text + "\n\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  /**
   * Where a client's catch-up comes from: pages of frames, read off the writer threads. A page that
   * has to wait for something slower than a read (a scan's summary waits for the read model)
   * completes later on a pool of its own, so the catch-up threads go on reading other clients'
   * pages meanwhile.
   */
  interface CatchUp {
    /** The next page; {@code end} once the source had nothing more when asked. */
    CompletionStage<Page> next();

    record Page(List<Frame> frames, boolean end) {
      CompletionStage<Page> now() {
        return CompletableFuture.completedFuture(this);
      }
    }
  }

  private static final Frame KEEP_ALIVE = Frame.comment("keep-alive");

  /** What {@link #takeBatch} returns for a client whose next frame the log no longer holds. */
  private static final ByteBuffer FELL_BEHIND = ByteBuffer.allocate(0);

  private final AsyncContext async;
  private final Output output;
  private final Executor writers;
  private final Executor readers;
  private final FrameLog log;
  private final Consumer<SseStream> onClose;
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  // Guarded by this.
  private final ArrayDeque<Frame> queue = new ArrayDeque<>();
  private long cursor; // the next frame of the log for this client
  private CatchUp catchUp;
  private boolean catchUpInFlight;
  private Position lastQueued;
  // The log from the cursor may still repeat what the replay sent: only until a newer frame shows.
  private boolean mayRepeatReplay = true;
  private boolean drainScheduled = true; // until the first drain
  private boolean closed;
  // From taking a batch until its write completed: a close meanwhile must not end the response
  // (Jetty would write its end under, or before, that write): the end waits for the write, or the
  // connection is aborted if the socket did not take it.
  private boolean batchInFlight;
  // A close (not an abort) found a write of ours under way: the response ends once it is done.
  private boolean endDeferred;
  private long queuedHere;

  private volatile long lastWriteNanos = System.nanoTime();
  private volatile long blockedSinceNanos;

  private SseStream(
      AsyncContext async,
      Executor writers,
      Executor readers,
      CatchUp catchUp,
      Position sentUpTo,
      FrameLog log,
      Consumer<SseStream> onClose)
      throws IOException {
    this.async = async;
    this.output = output(async);
    this.writers = writers;
    this.readers = readers;
    this.catchUp = catchUp;
    this.lastQueued = sentUpTo;
    this.log = log;
    this.onClose = onClose;
  }

  /**
   * A stream over an async request whose headers were sent, following {@code log} from its head:
   * for a client that starts live, open it under the lock that appends to the log. With a {@code
   * catchUp} the client first gets what it returns (read after this call, so it covers what the log
   * got before); otherwise it starts live after {@code sentUpTo}. Call {@link #start} once it is
   * registered; {@code onClose} must make it {@link FrameLog#leave} the log.
   */
  static SseStream open(
      AsyncContext async,
      Executor writers,
      Executor readers,
      CatchUp catchUp,
      Position sentUpTo,
      FrameLog log,
      Consumer<SseStream> onClose)
      throws IOException {
    SseStream stream = new SseStream(async, writers, readers, catchUp, sentUpTo, log, onClose);
    async.addListener(stream);
    synchronized (stream) {
      stream.cursor = log.join(stream);
    }
    return stream;
  }

  /** Starts writing (and catching up). */
  void start() {
    output.start();
  }

  /**
   * Like {@link #start}, with the catch-up's first page read here, on the calling thread (which
   * waits for it): it is written as soon as the container first says the output is ready, instead
   * of after a hop to a catch-up thread and another to a writer. Not under a lock the feed takes.
   */
  void startWithFirstPage() {
    synchronized (this) {
      catchUpInFlight = catchUp != null; // no drain runs before start: nothing else reads it
    }
    readCatchUpPage(); // its frames wait in the queue (no drain is scheduled before start)
    synchronized (this) {
      if (closed) {
        return; // the store could not be read: the request is over
      }
    }
    start();
  }

  /** Completes when the stream ended, for whatever reason. */
  CompletableFuture<Void> done() {
    return done;
  }

  /**
   * The log may have something new: drains this client here and now, unless another thread does, it
   * is still catching up (its replay is paced), or it is up to date. Never waits for the socket.
   */
  void wake() {
    synchronized (this) {
      if (closed || drainScheduled || catchUp != null || cursor >= log.head()) {
        return;
      }
      drainScheduled = true;
    }
    drain();
  }

  /**
   * Queues a keep-alive if nothing was written for {@code idleNanos}; closes a client stuck longer.
   */
  void keepAlive(long idleNanos, long stuckNanos) {
    long now = System.nanoTime();
    long blocked = blockedSinceNanos;
    if (blocked != 0 && now - blocked > stuckNanos) {
      close(true); // its socket has not taken a byte for that long: a dead client
      return;
    }
    if (now - lastWriteNanos > idleNanos) {
      synchronized (this) {
        if (!closed && queue.isEmpty()) {
          enqueue(KEEP_ALIVE);
        }
      }
    }
  }

  // Under this lock. The own queue holds at most a replay page and a keep-alive: replay is paced by
  // the client (the next page is read once the last one was written).
  private void enqueue(Frame frame) {
    if (frame.position() != null) {
      if (lastQueued != null && frame.position().compareTo(lastQueued) <= 0) {
        return; // already sent by the replay
      }
      lastQueued = frame.position();
    }
    queue.add(frame);
    queuedHere += frame.bytes().length;
    queuedBytes.addAndGet(frame.bytes().length);
    scheduleDrain();
  }

  // Under this lock.
  private void scheduleDrain() {
    if (!drainScheduled) {
      drainScheduled = true;
      writers.execute(this::drain);
    }
  }

  @Override
  public void onWritePossible() {
    drain();
  }

  /**
   * Writes what is pending while the socket takes it; returns as soon as it does not. Only one
   * thread drains a stream at a time (whoever set {@code drainScheduled}, or the container calling
   * onWritePossible after isReady said no), and it does its I/O outside the lock, so neither the
   * feed nor the other clients ever wait for this client's socket.
   */
  private void drain() {
    try {
      while (true) {
        if (!output.ready()) {
          blocked(); // Jetty calls onWritePossible once the socket drained
          return;
        }
        blockedSinceNanos = 0;
        ByteBuffer batch;
        synchronized (this) {
          batchInFlight = false; // the last one was written (or there was none)
          if (closed) {
            return;
          }
          batch = takeBatch();
          if (batch == FELL_BEHIND) {
            break;
          }
          batchInFlight = batch != null;
          if (batch == null) {
            drainScheduled = false;
            if (catchUp != null && !catchUpInFlight) {
              catchUpInFlight = true;
              readers.execute(this::readCatchUpPage);
            }
            return;
          }
        }
        if (!output.write(batch)) {
          if (isEndDeferred()) {
            endNow(true); // closed under a write the socket did not take: it may never complete
          }
          return; // the write completes later, and drains on (drainScheduled stays set)
        }
        batchWritten();
        lastWriteNanos = System.nanoTime();
      }
    } catch (IOException | RuntimeException e) {
      close(false); // the client went away, or the request is over: nothing to report
      endNow(true); // if that close waited for the write that failed
      return;
    }
    close(true); // frames it still needed are gone from the log: it resumes with Last-Event-ID
  }

  private void blocked() {
    if (blockedSinceNanos == 0) {
      blockedSinceNanos = System.nanoTime();
    }
  }

  /**
   * The batch is on the socket. A close that found it under way ends the response now (cleanly):
   * the client may have read the batch, and closed us, before Jetty told us the write completed.
   */
  private void batchWritten() {
    synchronized (this) {
      batchInFlight = false;
    }
    endNow(false);
  }

  private synchronized boolean isEndDeferred() {
    return endDeferred;
  }

  /**
   * Ends a response whose end waited for our write, if one does ({@code abort}: the connection).
   */
  private void endNow(boolean abort) {
    synchronized (this) {
      if (!endDeferred) {
        return;
      }
      endDeferred = false;
    }
    if (abort) {
      abortConnection();
    }
    done.complete(null);
  }

  /** A write that did not complete at once did now: on to what is pending since. */
  private void written() {
    batchWritten();
    blockedSinceNanos = 0;
    lastWriteNanos = System.nanoTime();
    drain();
  }

  /** Where a stream's bytes go: one write at a time, never waiting for the socket. */
  private interface Output {
    /** Starts the stream's first drain. */
    void start();

    /** False when the socket is full; the stream is drained again once it took the bytes. */
    boolean ready();

    /** Writes a batch; false when that completes later (the stream is then drained again). */
    boolean write(ByteBuffer batch) throws IOException;

    /** True if the response's end, which Jetty writes, could overlap a write of ours. */
    boolean endCanOverlapWrites();

    /** True if a write returned before the socket took it all (it may never complete). */
    default boolean writePending() {
      return false;
    }
  }

  /**
   * Straight to the connection when Jetty committed an HTTP/1.1 chunked response and wrote no body
   * yet (every stream starts so: its headers are flushed first); the servlet output otherwise.
   */
  private Output output(AsyncContext async) throws IOException {
    EndPoint endPoint = endPoint();
    if (endPoint != null
        && endPoint.getConnection() instanceof HttpConnection http1
        && http1.getGenerator().isState(HttpGenerator.State.COMMITTED)
        && http1.getGenerator().isChunking()
        && !http1.getGenerator().isWritten()
        && !http1.getGenerator().isNoContent()) {
      return new Chunks(endPoint);
    }
    return new Servlet((HttpOutput) async.getResponse().getOutputStream());
  }

  /**
   * Jetty's servlet output: its write of a ByteBuffer skips its aggregation buffer and sends at
   * once. The buffer is only read, so a span shared by many clients can be handed to each.
   */
  private final class Servlet implements Output {
    private final HttpOutput out;

    Servlet(HttpOutput out) {
      this.out = out;
    }

    @Override
    public void start() {
      out.setWriteListener(SseStream.this); // the container answers with onWritePossible
    }

    @Override
    public boolean ready() {
      return out.isReady();
    }

    @Override
    public boolean write(ByteBuffer batch) throws IOException {
      out.write(batch);
      return true; // the next ready() says whether the socket took it
    }

    @Override
    public boolean endCanOverlapWrites() {
      return false; // the servlet output finishes its own write before the response completes
    }
  }

  /**
   * HTTP/1.1 chunks written to the connection's EndPoint, past the servlet output, the response
   * wrappers and the generator (most of the writers' CPU in a profile of 1,000 clients): one
   * gathering write per batch. Jetty wrote only the headers, so its generator's state stays right:
   * the response's end adds the last chunk as usual. That end must not overlap a write of ours:
   * {@link #close} defers it to the write's end, or closes the connection under a write the socket
   * did not take.
   */
  private final class Chunks implements Output, Callback {
    private static final int IDLE = 0;
    private static final int WRITING = 1; // inside EndPoint.write
    private static final int PENDING = 2; // it returned before the socket took everything

    private final EndPoint endPoint;
    private final AtomicInteger state = new AtomicInteger(IDLE);

    Chunks(EndPoint endPoint) {
      this.endPoint = endPoint;
    }

    @Override
    public void start() {
      writers.execute(SseStream.this::drain);
    }

    @Override
    public boolean ready() {
      return true; // drain only runs once the last write completed
    }

    @Override
    public boolean write(ByteBuffer batch) {
      state.set(WRITING);
      endPoint.write(this, chunkHead(batch.remaining()), batch, ByteBuffer.wrap(CRLF));
      // Blocked until succeeded() says otherwise: set before it can run on the selector.
      blockedSinceNanos = System.nanoTime();
      if (state.compareAndSet(WRITING, PENDING)) {
        return false; // succeeded() drains on
      }
      blockedSinceNanos = 0;
      return true;
    }

    @Override
    public boolean endCanOverlapWrites() {
      return true; // Jetty does not know of our writes
    }

    @Override
    public boolean writePending() {
      return state.get() == PENDING;
    }

    @Override
    public void succeeded() {
      if (state.getAndSet(IDLE) == PENDING) {
        try {
          writers.execute(SseStream.this::written); // not on Jetty's selector
        } catch (RejectedExecutionException e) {
          close(false); // the hub is closing
          batchWritten();
        }
      }
    }

    @Override
    public void failed(Throwable failure) {
      state.set(IDLE);
      // The client went away. Not here: this may be Jetty's selector thread, and closing runs the
      // request's completion (and waits for the hub's lock), while other connections wait for it.
      try {
        writers.execute(
            () -> {
              close(false);
              endNow(true);
            });
      } catch (RejectedExecutionException e) {
        close(false); // the hub is closing
        endNow(true);
      }
    }

    @Override
    public InvocationType getInvocationType() {
      return InvocationType.NON_BLOCKING; // both only hand off to a writer
    }
  }

  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  /** A chunk's size line: the length in hex, then CRLF. */
  static ByteBuffer chunkHead(int length) {
    byte[] head = new byte[10]; // 8 hex digits at most
    int at = head.length;
    head[--at] = '\n';
    head[--at] = '\r';
    int rest = length;
    do {
      head[--at] = HEX[rest & 0xf];
      rest >>>= 4;
    } while (rest != 0);
    return ByteBuffer.wrap(head, at, head.length - at);
  }

  /**
   * Under this lock: the own queue first (replay, keep-alive), then, once live, the log from the
   * cursor towards its head, as one buffer of at most about {@link #MAX_WRITE_BYTES} (the log's
   * shared off-heap copy when that is all); null when nothing is pending.
   */
  private ByteBuffer takeBatch() {
    List<byte[]> parts = new ArrayList<>(2);
    int size = 0;
    while (!queue.isEmpty()
        && (size == 0 || size + queue.peek().bytes().length <= MAX_WRITE_BYTES)) {
      Frame next = queue.poll();
      queuedHere -= next.bytes().length;
      queuedBytes.addAndGet(-next.bytes().length);
      parts.add(next.bytes());
      size += next.bytes().length;
    }
    // The log only once the own queue is empty: the rest of a replay page goes first.
    if (catchUp == null && queue.isEmpty()) {
      skipReplayed();
    }
    if (catchUp == null && queue.isEmpty() && cursor < log.head() && size < MAX_WRITE_BYTES) {
      FrameLog.Span span = log.span(cursor, MAX_WRITE_BYTES - size);
      if (span == null) {
        return FELL_BEHIND;
      }
      cursor = span.to();
      lastQueued = span.last() != null ? span.last() : lastQueued;
      if (parts.isEmpty()) {
        return span.forWrite(); // a live client's usual write
      }
      parts.add(span.bytes());
    }
    return parts.isEmpty() ? null : ByteBuffer.wrap(concat(parts));
  }

  /**
   * Under this lock: moves the cursor past frames the replay sent (only right after a catch-up).
   */
  private void skipReplayed() {
    while (mayRepeatReplay && lastQueued != null && cursor < log.head()) {
      Frame next = log.get(cursor);
      if (next == null || next.position() == null) {
        return; // fell behind (span() says so), or a frame that hides no event
      }
      if (next.position().compareTo(lastQueued) > 0) {
        mayRepeatReplay = false; // the log is in order: what follows is newer too
        return;
      }
      cursor++;
    }
  }

  private static byte[] concat(List<byte[]> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    parts.forEach(all::writeBytes);
    return all.toByteArray();
  }

  /** On a reader thread: one page of the catch-up, then back to the writers. */
  private void readCatchUpPage() {
    CatchUp source;
    synchronized (this) {
      source = catchUp;
      if (closed || source == null) {
        return;
      }
    }
    CompletionStage<CatchUp.Page> next;
    try {
      next = source.next();
    } catch (RuntimeException e) {
      close(false); // the store is unreachable: the client reconnects and resumes
      return;
    }
    next.whenComplete(
        (page, failure) -> {
          if (failure != null) {
            close(false);
          } else {
            caughtUp(page);
          }
        });
  }

  private void caughtUp(CatchUp.Page page) {
    synchronized (this) {
      if (closed) {
        return;
      }
      catchUpInFlight = false;
      page.frames().forEach(this::enqueue);
      if (page.end()) {
        if (log.holds(cursor)) {
          catchUp = null; // live: the log from the cursor on, minus what the replay sent
          mayRepeatReplay = true;
        } else {
          // The log dropped frames that waited for this client while it replayed. The store has
          // them: read on (the next page is read after this point, so it covers what the log had
          // until now), and wait at the log's head from here.
          cursor = log.head();
        }
      }
      scheduleDrain();
    }
  }

  /**
   * Ends the stream. {@code abort} also closes the connection under a write that may never complete
   * (a stuck client, or one that fell behind), so the container does not wait for it.
   */
  void close(boolean abort) {
    boolean writeUnderWay;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      writeUnderWay = batchInFlight; // no batch is taken after this: drain sees closed
      endDeferred = writeUnderWay && !abort && output.endCanOverlapWrites();
      queuedBytes.addAndGet(-queuedHere);
      queuedHere = 0;
      queue.clear();
      catchUp = null;
    }
    onClose.accept(this);
    if (abort) {
      abortConnection();
    } else if (writeUnderWay && output.endCanOverlapWrites()) {
      // The response's end must not write under a write of ours: it follows the write's end
      // (batchWritten), or the connection goes if the socket did not take it (set endDeferred
      // first, then read the state: the drain reads them the other way round, see drain).
      if (output.writePending()) {
        endNow(true);
      }
      return;
    }
    // Javalin runs its after-handlers and completes the request on this thread.
    done.complete(null);
  }

  private void abortConnection() {
    EndPoint endPoint = endPoint();
    if (endPoint != null) {
      endPoint.close();
    }
  }

  private EndPoint endPoint() {
    try {
      return ServletContextRequest.getServletContextRequest(async.getRequest())
          .getServletChannel()
          .getEndPoint();
    } catch (RuntimeException e) {
      return null; // already gone
    }
  }

  @Override
  public void onError(Throwable failure) {
    close(false);
  }

  @Override
  public void onComplete(AsyncEvent event) {
    close(false);
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    close(false);
  }

  @Override
  public void onError(AsyncEvent event) {
    close(false);
  }

  @Override
  public void onStartAsync(AsyncEvent event) {}
}
