package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.internal.AppendSignal;
import dev.eventscan.eventstore.internal.PostgresEventStore;
import dev.eventscan.eventstore.internal.SharedHeadReads;
import dev.eventscan.eventstore.position.Position;
import java.sql.SQLException;
import java.time.Duration;

/**
 * How a subscription's thread follows the log: it reads pages (at the head, together with the
 * process's other readers), and at the end of the log waits for an append, or, while events are
 * held back behind an older transaction, reads again soon.
 */
final class LogFollower {
  private static final Duration MIN_HELD_BACK_WAIT = Duration.ofMillis(1);

  private final EventStore store;
  private final EventFilter filter;
  private final int batchSize;
  private final Duration pollInterval;
  private final Duration batchInterval;
  private final AppendSignal appends;
  private final StopSignal stop;
  private Duration heldBackWait;

  // Taken before the last read: an append or a release after them ends the next wait.
  private long appendMark;
  private long releaseMark;
  private long readAt;

  LogFollower(EventStore store, SubscriptionOptions options, EventFilter filter, StopSignal stop) {
    this.store = store;
    this.filter = filter;
    this.batchSize = options.batchSize();
    this.pollInterval = options.pollInterval();
    this.batchInterval = options.batchInterval();
    this.stop = stop;
    this.appends =
        store instanceof PostgresEventStore postgres
            ? postgres.appendSignal()
            : new AppendSignal(store.dataSource(), store.notificationChannel());
  }

  /** A page, and whether events wait behind the barrier if the read said so (null if not). */
  record Read(GlobalLogPage page, Boolean heldBack) {}

  /**
   * To run after each transaction of the follower's thread: it may have held back every global
   * reader, and the store's readers waiting behind the barrier look again at once.
   */
  Runnable transactionEnded() {
    return appends::signalRelease;
  }

  /**
   * At the head of the log, the process's other subscriptions wake up for the same appends: their
   * reads are shared (one query for all of them), and say whether events are held back.
   */
  Read read(Position after, boolean atHead) {
    appendMark = appends.mark();
    releaseMark = appends.releaseMark();
    readAt = System.nanoTime();
    if (atHead && store instanceof PostgresEventStore postgres) {
      SharedHeadReads.HeadPage shared = postgres.headReads().readAll(after, filter, batchSize);
      return new Read(shared.page(), shared.heldBack());
    }
    return new Read(store.readAll(after, filter, batchSize), null);
  }

  /**
   * After a read at the end of the log that found events: reads again at once, unless batches are
   * spaced ({@link SubscriptionOptions#batchInterval}).
   */
  void spaceBatches() {
    stop.pause(batchInterval.minusNanos(System.nanoTime() - readAt));
  }

  /**
   * After a read at the end of the log found nothing: waits for an append since the read, at most
   * the poll interval, and at most {@code atMost} (null: no limit). While events are held back it
   * waits less (see {@link #nextHeldBackWait}), and a transaction's end wakes it too.
   */
  void awaitMore(Read read, ControlConnection control, Duration atMost) throws SQLException {
    boolean heldBack =
        read.heldBack() == null ? control.eventsHeldBack(store.schema()) : read.heldBack();
    heldBackWait = heldBack ? nextHeldBackWait(heldBackWait) : null;
    Duration wait = heldBackWait == null ? pollInterval : heldBackWait;
    if (atMost != null) {
      wait = min(wait, atMost);
    }
    try {
      if (heldBack) {
        appends.awaitHeldBack(appendMark, releaseMark, wait);
      } else {
        appends.await(appendMark, wait);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop.raise();
    }
  }

  /** Stops {@code follower}, the thread following the log, and waits for it to end. */
  void stop(Thread follower) {
    stop.raise(); // ends a retry back-off or stand-by early
    appends.signal(); // ends a wait for appends: the other readers of the store just look once
    try {
      follower.join(pollInterval.toMillis() + 60_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!(store instanceof PostgresEventStore)) {
      appends.close(); // its own, not the store's
    }
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static Duration min(Duration a, Duration b) {
    Duration shorter = a.compareTo(b) <= 0 ? a : b;
    return shorter.compareTo(MIN_HELD_BACK_WAIT) < 0 ? MIN_HELD_BACK_WAIT : shorter;
  }

  /**
   * How long to wait before reading again while events are held back: 1 ms, then a quarter more
   * each time (at least a millisecond more) while they stay held (a long transaction elsewhere), up
   * to the poll interval. Doubling overshot the transaction's end by up to its whole length again;
   * this by at most a quarter of it, for a few more cheap checks.
   */
  private Duration nextHeldBackWait(Duration previous) {
    Duration next =
        previous == null
            ? MIN_HELD_BACK_WAIT
            : max(previous.plus(MIN_HELD_BACK_WAIT), previous.multipliedBy(5).dividedBy(4));
    return next.compareTo(pollInterval) < 0 ? next : pollInterval;
  }
}
