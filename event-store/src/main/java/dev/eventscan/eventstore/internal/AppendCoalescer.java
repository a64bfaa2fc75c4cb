package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.stream.StreamAppend;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Gathers appends that arrive while another is being written into the next batch, the way a log's
 * writer queue does: the caller that finds nobody writing writes its own append and everything that
 * queued meanwhile; the others wait for their outcome, and when a writer's own append is done it
 * hands the queue to the first caller still waiting. So a lone writer writes alone, without a
 * hand-off, and N concurrent writers share one transaction per batch.
 *
 * <p>Gathering only pays with many appends in flight: PostgreSQL's group commit already shares one
 * WAL flush among a few concurrent transactions, and a queue only adds a wait to theirs. So while
 * at most {@code gatherAbove} appends are in flight, {@link #admit()} sends each one alone,
 * straight to its own statement; past that, they gather.
 *
 * <p>Only the queue lives here; {@link BatchAppender} writes a batch and decides each append's
 * outcome. A batch never holds two appends to one stream (the later waits for the next batch), so
 * each append's expected version is checked against the stream as committed before the batch.
 */
final class AppendCoalescer {
  /** Writes one batch; returns one outcome per append, in order. Never throws. */
  @FunctionalInterface
  interface BatchWriter {
    List<BatchOutcome> write(List<StreamAppend> batch);
  }

  private final BatchWriter writer;
  private final int maxAppends;
  private final int maxEvents;
  private final long maxChars;
  private final int maxWriters;
  private final int gatherAbove;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<Request> queue = new ArrayDeque<>();
  private int writers;
  private long batches;
  private long coalesced;
  private int largestBatch;

  AppendCoalescer(
      BatchWriter writer,
      int gatherAbove,
      int maxWriters,
      int maxAppends,
      int maxEvents,
      long maxChars) {
    this.writer = writer;
    this.gatherAbove = gatherAbove;
    this.maxWriters = maxWriters;
    this.maxAppends = maxAppends;
    this.maxEvents = maxEvents;
    this.maxChars = maxChars;
  }

  private static final class Request {
    final StreamAppend append;
    final Condition settled;
    BatchOutcome outcome;
    boolean writes;

    Request(StreamAppend append, Condition settled) {
      this.append = append;
      this.settled = settled;
    }
  }

  /** One append in flight, from {@link #admit()} until closed. */
  final class Admission implements AutoCloseable {
    private final boolean gathers;

    private Admission(boolean gathers) {
      this.gathers = gathers;
    }

    /** Whether the append should join a batch ({@link #append}) rather than go alone. */
    boolean gathers() {
      return gathers;
    }

    @Override
    public void close() {
      inFlight.decrementAndGet();
    }
  }

  /** Counts an append in flight until the admission is closed; it gathers past the threshold. */
  Admission admit() {
    return new Admission(inFlight.incrementAndGet() > gatherAbove);
  }

  /**
   * Returns once the append's batch is settled: committed, refused, or lost with its connection.
   * Waits uninterruptibly: the append is in flight and its outcome is what the caller needs.
   */
  BatchOutcome append(StreamAppend append) {
    Request self;
    lock.lock();
    try {
      self = new Request(append, lock.newCondition());
      queue.addLast(self);
      if (writers < maxWriters) {
        writers++;
        self.writes = true;
      }
      while (self.outcome == null && !self.writes) {
        self.settled.awaitUninterruptibly();
      }
    } finally {
      lock.unlock();
    }
    if (self.writes) {
      writeUntilSettled(self);
    }
    return self.outcome;
  }

  /** Writes batches from the queue until {@code self}'s is written, then passes the queue on. */
  private void writeUntilSettled(Request self) {
    List<Request> batch = List.of();
    try {
      while (true) {
        lock.lock();
        try {
          if (self.outcome != null) {
            passOn();
            return;
          }
          if (queue.isEmpty()) {
            // Another writer's batch took our append: nothing left to write, so stop writing and
            // wait for that batch like any other caller.
            writers--;
            self.writes = false;
            while (self.outcome == null) {
              self.settled.awaitUninterruptibly();
            }
            return;
          }
          batch = takeBatch();
        } finally {
          lock.unlock();
        }
        List<BatchOutcome> outcomes =
            writer.write(batch.stream().map(request -> request.append).toList());
        settle(batch, outcomes);
        batch = List.of();
      }
    } catch (RuntimeException | Error e) {
      // A bug in writing a batch: nobody may wait forever, and nobody may hear "not written".
      lock.lock();
      try {
        for (Request request : batch) {
          if (request.outcome == null) {
            request.outcome = new BatchOutcome.Unknown(e);
            request.settled.signal();
          }
        }
        if (self.outcome == null) {
          self.outcome = new BatchOutcome.Unknown(e);
        }
        passOn();
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * A writer whose own append is settled stops writing: the first queued append that has no writer
   * yet takes over, or, with none, there is one writer fewer. Called holding the lock.
   */
  private void passOn() {
    for (Request request : queue) {
      if (!request.writes) {
        request.writes = true;
        request.settled.signal();
        return;
      }
    }
    writers--;
  }

  /** The queue's head and the appends behind it, one per stream, within the size limits. */
  private List<Request> takeBatch() {
    List<Request> batch = new ArrayList<>();
    Set<String> streams = new HashSet<>();
    int events = 0;
    long chars = 0;
    for (Iterator<Request> it = queue.iterator(); it.hasNext() && batch.size() < maxAppends; ) {
      Request request = it.next();
      StreamAppend append = request.append;
      int size = append.events().size();
      long length = append.events().stream().mapToLong(e -> e.data().length()).sum();
      if (!batch.isEmpty() && (events + size > maxEvents || chars + length > maxChars)) {
        break;
      }
      if (streams.add(append.streamId())) {
        batch.add(request);
        events += size;
        chars += length;
        it.remove();
      }
    }
    batches++;
    if (batch.size() > 1) {
      coalesced += batch.size();
    }
    largestBatch = Math.max(largestBatch, batch.size());
    return batch;
  }

  private void settle(List<Request> batch, List<BatchOutcome> outcomes) {
    lock.lock();
    try {
      for (int i = 0; i < batch.size(); i++) {
        Request request = batch.get(i);
        request.outcome = outcomes.get(i);
        request.settled.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /** How many batches may be written at once. */
  int maxWriters() {
    return maxWriters;
  }

  /** Up to how many appends in flight each goes alone. */
  int gatherAbove() {
    return gatherAbove;
  }

  /** Appends waiting for a batch (tests use it to line up a batch). */
  int queued() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /** Batches written, appends that shared a batch with others, the largest batch. */
  record Stats(long batches, long coalescedAppends, int largestBatch) {}

  Stats stats() {
    lock.lock();
    try {
      return new Stats(batches, coalesced, largestBatch);
    } finally {
      lock.unlock();
    }
  }
}
