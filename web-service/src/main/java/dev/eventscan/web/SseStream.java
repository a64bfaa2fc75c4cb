package dev.eventscan.web;

import dev.eventscan.eventstore.position.Position;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;

/**
 * One SSE client, written to with the servlet container's non-blocking output: no thread waits for
 * a client. Frames (serialized once, shared by every client) wait in a bounded queue; a writer from
 * a small shared pool coalesces whatever is pending into one write and one flush, and when the
 * socket is full it simply returns: Jetty calls {@link #onWritePossible} once it drains.
 *
 * <p>A client whose queue overflows is disconnected and resumes with Last-Event-ID. While it
 * catches up from the store, live frames are held aside; replay is paced by the client (the next
 * page is read once the last one was written), and whatever the replay already sent is never sent
 * again: nothing lost, nothing repeated.
 */
final class SseStream implements WriteListener, AsyncListener {
  static final int QUEUE_CAPACITY = 1_000;

  /** Coalesced writes stop growing here; the rest follows in the next write. */
  private static final int MAX_WRITE_BYTES = 64 * 1024;

  /** Bytes queued for all clients (a leak check, and a metric). */
  static final AtomicLong queuedBytes = new AtomicLong();

  /** What a client receives: the bytes of one SSE frame (or more, sharing one position). */
  record Frame(Position position, byte[] bytes) {
    static Frame comment(String text) {
      return new Frame(
          null, (": " + text + "\n\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  /** Where a client's catch-up comes from: pages of frames, read off the writer threads. */
  interface CatchUp {
    /** The next page; {@code end} once the source had nothing more when asked. */
    Page next();

    record Page(List<Frame> frames, boolean end) {}
  }

  private static final Frame KEEP_ALIVE = Frame.comment("keep-alive");

  private final AsyncContext async;
  private final ServletOutputStream out;
  private final Executor writers;
  private final Executor readers;
  private final Consumer<SseStream> onClose;
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  // Guarded by this.
  private final ArrayDeque<Frame> queue = new ArrayDeque<>();
  private List<Frame> held = new ArrayList<>();
  private CatchUp catchUp;
  private boolean catchUpInFlight;
  private long heldDropped;
  private Position lastQueued;
  private boolean drainScheduled = true; // until the container's first onWritePossible
  private boolean flushPending;
  private boolean closed;
  private long queuedHere;

  private volatile long lastWriteNanos = System.nanoTime();
  private volatile long blockedSinceNanos;

  private SseStream(
      AsyncContext async,
      Executor writers,
      Executor readers,
      CatchUp catchUp,
      Position sentUpTo,
      Consumer<SseStream> onClose)
      throws IOException {
    this.async = async;
    this.out = async.getResponse().getOutputStream();
    this.writers = writers;
    this.readers = readers;
    this.catchUp = catchUp;
    this.lastQueued = sentUpTo;
    this.onClose = onClose;
  }

  /**
   * A stream over an async request whose headers were sent. With a {@code catchUp} the client first
   * gets what it returns; otherwise it starts live after {@code sentUpTo}. Call {@link #start} once
   * it is registered where live frames come from.
   */
  static SseStream open(
      AsyncContext async,
      Executor writers,
      Executor readers,
      CatchUp catchUp,
      Position sentUpTo,
      Consumer<SseStream> onClose)
      throws IOException {
    SseStream stream = new SseStream(async, writers, readers, catchUp, sentUpTo, onClose);
    async.addListener(stream);
    return stream;
  }

  /** Starts writing (and catching up). */
  void start() {
    out.setWriteListener(this); // the container answers with onWritePossible
  }

  /** Completes when the stream ended, for whatever reason. */
  CompletableFuture<Void> done() {
    return done;
  }

  /** Queues a live frame; never blocks. Overflow disconnects the client (it resumes). */
  void offer(Frame frame) {
    boolean overflow = false;
    synchronized (this) {
      if (closed) {
        return;
      }
      if (catchUp != null) {
        if (held.size() >= QUEUE_CAPACITY) {
          // The replay reads past these anyway: drop them and let it read further.
          held = new ArrayList<>();
          heldDropped++;
        }
        held.add(frame);
        return;
      }
      overflow = !enqueue(frame, true);
    }
    if (overflow) {
      close(true);
    }
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
          enqueue(KEEP_ALIVE, true);
        }
      }
    }
  }

  // Under this lock. False when a bounded add finds the queue full. The replay's adds are not
  // bounded: it is paced by the client (a page once the last was written), so a page and the frames
  // held meanwhile may exceed the live capacity for a moment; both are bounded themselves.
  private boolean enqueue(Frame frame, boolean bounded) {
    if (frame.position() != null) {
      if (lastQueued != null && frame.position().compareTo(lastQueued) <= 0) {
        return true; // already sent by the replay
      }
      lastQueued = frame.position();
    }
    if (bounded && queue.size() >= QUEUE_CAPACITY) {
      return false;
    }
    queue.add(frame);
    queuedHere += frame.bytes().length;
    queuedBytes.addAndGet(frame.bytes().length);
    scheduleDrain();
    return true;
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
   * onWritePossible after isReady said no), and it does its I/O outside the lock, so the feed never
   * waits for a socket while handing out frames.
   */
  private void drain() {
    try {
      while (true) {
        if (!out.isReady()) {
          // Jetty calls onWritePossible once the socket drained; drainScheduled stays set.
          if (blockedSinceNanos == 0) {
            blockedSinceNanos = System.nanoTime();
          }
          return;
        }
        blockedSinceNanos = 0;
        byte[] batch;
        synchronized (this) {
          if (closed) {
            return;
          }
          if (flushPending) {
            flushPending = false;
            batch = null;
          } else if (queue.isEmpty()) {
            drainScheduled = false;
            if (catchUp != null && !catchUpInFlight) {
              catchUpInFlight = true;
              readers.execute(this::readCatchUpPage);
            }
            return;
          } else {
            batch = takeBatch();
            flushPending = true;
          }
        }
        if (batch == null) {
          out.flush();
        } else {
          out.write(batch);
          lastWriteNanos = System.nanoTime();
        }
      }
    } catch (IOException | IllegalStateException e) {
      close(false); // the client went away, or the request is over: nothing to report
    }
  }

  // Under this lock.
  private byte[] takeBatch() {
    Frame first = queue.poll();
    release(first);
    if (queue.isEmpty() || first.bytes().length >= MAX_WRITE_BYTES) {
      return first.bytes();
    }
    ByteArrayOutputStream batch = new ByteArrayOutputStream(8 * 1024);
    batch.writeBytes(first.bytes());
    while (!queue.isEmpty() && batch.size() + queue.peek().bytes().length <= MAX_WRITE_BYTES) {
      Frame next = queue.poll();
      release(next);
      batch.writeBytes(next.bytes());
    }
    return batch.toByteArray();
  }

  private void release(Frame frame) {
    queuedHere -= frame.bytes().length;
    queuedBytes.addAndGet(-frame.bytes().length);
  }

  /** On a reader thread: one page of the catch-up, then back to the writers. */
  private void readCatchUpPage() {
    CatchUp source;
    long droppedBefore;
    synchronized (this) {
      source = catchUp;
      droppedBefore = heldDropped;
      if (closed || source == null) {
        return;
      }
    }
    CatchUp.Page page;
    try {
      page = source.next();
    } catch (RuntimeException e) {
      close(false); // the store is unreachable: the client reconnects and resumes
      return;
    }
    synchronized (this) {
      if (closed) {
        return;
      }
      catchUpInFlight = false;
      page.frames().forEach(frame -> enqueue(frame, false));
      if (page.end() && heldDropped == droppedBefore) {
        // Live from here: what was held while replaying, minus what the replay already sent.
        catchUp = null;
        List<Frame> live = held;
        held = new ArrayList<>();
        live.forEach(frame -> enqueue(frame, false));
      }
      scheduleDrain();
    }
  }

  /**
   * Ends the stream. {@code abort} also closes the connection under a write that may never complete
   * (a stuck or overflowing client), so the container does not wait for it.
   */
  void close(boolean abort) {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      queuedBytes.addAndGet(-queuedHere);
      queuedHere = 0;
      queue.clear();
      held = List.of();
      catchUp = null;
    }
    onClose.accept(this);
    if (abort) {
      abortConnection();
    }
    // Javalin runs its after-handlers and completes the request on this thread.
    done.complete(null);
  }

  private void abortConnection() {
    try {
      EndPoint endPoint =
          ServletContextRequest.getServletContextRequest(async.getRequest())
              .getServletChannel()
              .getEndPoint();
      endPoint.close();
    } catch (RuntimeException e) {
      // already gone
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
