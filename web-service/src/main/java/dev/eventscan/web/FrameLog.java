package dev.eventscan.web;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.web.SseStream.Frame;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live frames of one feed, kept once for all of its clients (nchan's channel buffer): a bounded
 * ring that the feed appends to, and each client only a cursor (a sequence number) into it. An
 * append costs the same for one client or ten thousand; waking the clients is a pass over them on
 * the writer threads, one per shard, coalesced: while a pass is pending, appends just join it. A
 * client whose cursor fell behind the oldest frame kept has lost frames: it is disconnected and
 * resumes with Last-Event-ID, as with any slow client.
 *
 * <p>One thread at a time appends (the caller's lock or single thread); clients read without a
 * lock: a frame's slot carries its sequence number, so a slot overwritten under a reader shows
 * itself.
 */
final class FrameLog {
  private static final Logger log = LoggerFactory.getLogger(FrameLog.class);

  private record Slot(long seq, Frame frame, long appendedNanos) {}

  /**
   * Up to this many clients, the thread that appended writes to them itself: a pass over them (a
   * non-blocking write each) is shorter than the hop to a writer, which on a busy machine is a wait
   * for a CPU. A client whose socket is full still waits for its write's completion elsewhere.
   */
  static final int PASS_HERE_UP_TO = 16;

  private static final int RECENT_SPANS = 8;

  /**
   * Frames {@code [from, to)} as one array, and the position of the last one. Clients that are up
   * to date all read the same span, so the last ones built are kept for the next clients that ask.
   */
  record Span(long from, long to, byte[] bytes, Position last, ByteBuffer direct) {
    /**
     * The same bytes for one client's write: off-heap, so the socket write does not copy them out
     * of the heap again for each of the clients that share the span.
     */
    ByteBuffer forWrite() {
      return direct.duplicate();
    }
  }

  private final Slot[] slots;
  private final Executor writers;
  private final Timer fanOut;
  private final Set<SseStream>[] shards;
  private final AtomicBoolean[] passPending;
  private final AtomicInteger nextShard = new AtomicInteger();
  private final AtomicInteger readers = new AtomicInteger();
  private volatile long head; // the sequence number of the next frame
  private long wokenAt; // the head at the last wakeIfAppended (the appending thread's)
  // The spans built last, any of which the next client may share: each writer's shard has its
  // clients at cursors of their own, so one entry would be rebuilt at every turn between them.
  // Unsynchronized: a span is immutable, and a stale or missing entry only costs a rebuild.
  private final Span[] recentSpans = new Span[RECENT_SPANS];
  private int nextRecentSpan;

  /**
   * @param capacity frames kept for clients that are behind
   * @param shards how many writer threads wake the clients in parallel
   * @param fanOut records, per pass, how long after its append the newest frame the pass saw was
   *     written to every client of the shard that could take it
   */
  @SuppressWarnings("unchecked")
  FrameLog(int capacity, Executor writers, int shards, Timer fanOut) {
    this.slots = new Slot[capacity];
    this.writers = writers;
    this.fanOut = fanOut;
    this.shards = new Set[shards];
    this.passPending = new AtomicBoolean[shards];
    for (int i = 0; i < shards; i++) {
      this.shards[i] = ConcurrentHashMap.newKeySet();
      this.passPending[i] = new AtomicBoolean();
    }
  }

  /** Adds a frame; call {@link #wake} once the frames at hand are in. */
  void append(Frame frame) {
    long seq = head;
    slots[slot(seq)] = new Slot(seq, frame, System.nanoTime());
    head = seq + 1; // volatile: publishes the slot
  }

  /** {@link #wake} if frames were appended since the last call (by the appending thread). */
  void wakeIfAppended() {
    long appended = head;
    if (appended != wokenAt) {
      wokenAt = appended;
      wake();
    }
  }

  /**
   * Lets the clients know there is something new (one pass per shard, unless one is pending). Call
   * it under no lock that closing a client takes: with few clients, the pass runs right here.
   */
  void wake() {
    boolean here = readers.get() <= PASS_HERE_UP_TO;
    for (int i = 0; i < shards.length; i++) {
      if (passPending[i].compareAndSet(false, true)) {
        Set<SseStream> shard = shards[i];
        AtomicBoolean pending = passPending[i];
        Runnable pass =
            () -> {
              pending.set(false); // first: an append from now on schedules the next pass
              if (!shard.isEmpty()) {
                Slot newest = slots[slot(head - 1)];
                shard.forEach(FrameLog::wakeOrClose);
                fanOut.record(System.nanoTime() - newest.appendedNanos(), TimeUnit.NANOSECONDS);
              }
            };
        if (here) {
          pass.run();
          continue;
        }
        try {
          writers.execute(pass);
        } catch (RejectedExecutionException e) {
          // The hub is closing (a scan's summary may still be appended): its clients are closed.
          pending.set(false);
        }
      }
    }
  }

  /**
   * A client that fails unexpectedly is let go (it resumes with Last-Event-ID), never the pass: it
   * may run on the live feed's own thread, which a failure would end for every client.
   */
  private static void wakeOrClose(SseStream client) {
    try {
      client.wake();
    } catch (RuntimeException e) {
      log.warn("An SSE client failed while being woken; it is disconnected", e);
      client.close(true);
    }
  }

  /** The sequence number the next frame gets. */
  long head() {
    return head;
  }

  /** True while the frame at {@code seq} (and everything after it) is still kept. */
  boolean holds(long seq) {
    return seq >= head - slots.length;
  }

  /** The frame at {@code seq} (below {@link #head}), or null once it was overwritten. */
  Frame get(long seq) {
    Slot slot = slots[slot(seq)];
    return slot != null && slot.seq() == seq ? slot.frame() : null;
  }

  /**
   * The frames from {@code from} towards the head, as many as fit in {@code maxBytes} (at least
   * one), as one array; null once the frame at {@code from} was overwritten. Built once for all the
   * clients at the same cursor.
   */
  Span span(long from, int maxBytes) {
    long end = head;
    long to = from;
    int size = 0;
    Position last = null;
    while (to < end) {
      Frame frame = get(to);
      if (frame == null) {
        return null;
      }
      if (size > 0 && size + frame.bytes().length > maxBytes) {
        break;
      }
      size += frame.bytes().length;
      last = frame.position() != null ? frame.position() : last;
      to++;
    }
    for (Span cached : recentSpans) {
      if (cached != null && cached.from() == from && cached.to() == to) {
        return cached;
      }
    }
    byte[] bytes = new byte[size];
    int at = 0;
    for (long seq = from; seq < to; seq++) {
      Frame frame = get(seq);
      if (frame == null) {
        return null; // overwritten while copying
      }
      System.arraycopy(frame.bytes(), 0, bytes, at, frame.bytes().length);
      at += frame.bytes().length;
    }
    ByteBuffer direct = ByteBuffer.allocateDirect(size).put(bytes).flip().asReadOnlyBuffer();
    Span span = new Span(from, to, bytes, last, direct);
    int entry = nextRecentSpan;
    recentSpans[entry] = span;
    nextRecentSpan = (entry + 1) % RECENT_SPANS;
    return span;
  }

  /**
   * Registers a client to be woken; returns its cursor: the frames from there on are the ones
   * appended after this call.
   */
  long join(SseStream client) {
    shards[Math.floorMod(nextShard.getAndIncrement(), shards.length)].add(client);
    readers.incrementAndGet();
    return head;
  }

  /** Removes a client; true when none is left. */
  boolean leave(SseStream client) {
    for (Set<SseStream> shard : shards) {
      if (shard.remove(client)) {
        return readers.decrementAndGet() == 0;
      }
    }
    return readers.get() == 0;
  }

  int readers() {
    return readers.get();
  }

  private int slot(long seq) {
    return (int) Math.floorMod(seq, (long) slots.length);
  }
}
