package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one named subscription (or one segment of one) on its own thread: take the lock ({@link
 * ControlConnection}), load the checkpoint, then read pages from it and hand them to {@link
 * BatchDelivery}, waiting for appends at the end of the log. A storage failure anywhere lets go of
 * the lock and starts over from the checkpoint after a back-off. A segment is only taken while it
 * is assigned to this node, and handed back between batches when it no longer is.
 */
final class SubscriptionWorker implements Subscription {
  private static final Logger log = LoggerFactory.getLogger(SubscriptionWorker.class);
  private static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(5);
  static final Duration SKIP_SAVE_INTERVAL = Duration.ofMillis(100);

  private final EventStore store;
  private final SubscriptionTables tables;
  private final SubscriptionOptions options;
  private final String owner;
  private final CheckpointTransactions checkpoints;
  private final Delivery delivery;
  private final BatchDelivery batches;
  private final StopSignal stop = new StopSignal();
  private final Consumer<SubscriptionWorker> whenStopped;
  private final BooleanSupplier assignedHere;
  private final Thread thread;
  private final LogFollower follower;
  private final Object positionMoved = new Object();
  private final CompletableFuture<Position> caughtUp = new CompletableFuture<>();

  private volatile SubscriptionState state = SubscriptionState.STOPPED;
  private volatile Position position = Position.START;

  SubscriptionWorker(
      EventStore store,
      SubscriptionTables tables,
      SubscriptionOptions options,
      String owner,
      Function<CheckpointTransactions, Delivery> delivery,
      BooleanSupplier assignedHere,
      Consumer<SubscriptionWorker> whenStopped) {
    this.assignedHere = assignedHere;
    this.store = store;
    this.tables = tables;
    this.options = options;
    this.owner = owner;
    this.follower = new LogFollower(store, options, options.filter(), stop);
    this.checkpoints =
        new CheckpointTransactions(tables, options.name(), owner, follower.transactionEnded());
    this.delivery = delivery.apply(checkpoints);
    this.batches = new BatchDelivery(options, this.delivery, checkpoints, tables, stop);
    this.whenStopped = whenStopped;
    this.thread = new Thread(this::run, "subscription-" + options.name());
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  @Override
  public String name() {
    return options.name();
  }

  @Override
  public SubscriptionState state() {
    return state;
  }

  @Override
  public Position position() {
    return position;
  }

  @Override
  public boolean awaitPosition(Position target, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (positionMoved) {
      while (position.compareTo(target) < 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        positionMoved.wait(Math.max(1, left / 1_000_000));
      }
      return true;
    }
  }

  @Override
  public CompletableFuture<Position> caughtUp() {
    return caughtUp;
  }

  @Override
  public void stop() {
    caughtUp.completeExceptionally(
        new IllegalStateException("subscription " + name() + " stopped before it caught up"));
    follower.stop(thread);
    whenStopped.accept(this);
  }

  /** How handling ended while the lock was held. */
  private enum End {
    STOPPED,
    FAILED,
    HANDED_BACK
  }

  private void run() {
    int storageFailures = 0;
    while (!stop.raised()) {
      if (!assignedHere.getAsBoolean()) {
        state = SubscriptionState.STANDBY;
        stop.pause(options.standbyInterval());
        continue;
      }
      try (ControlConnection control =
          ControlConnection.tryAcquire(tables.dataSource(), tables.schema() + "/" + name())
              .orElse(null)) {
        if (control == null) {
          state = SubscriptionState.STANDBY;
          stop.pause(options.standbyInterval());
          continue;
        }
        checkpoints.runOnLockSession(control.connection());
        Position checkpoint =
            tables.loadOrCreate(
                control.connection(), name(), resolve(options.startFrom()), options.segments());
        moveTo(checkpoint);
        state = SubscriptionState.RUNNING;
        tables.markState(name(), owner, state, null); // monitoring shows the new owner at once
        storageFailures = 0;
        End end = handleUntilStopped(control, checkpoint);
        if (end == End.HANDED_BACK) {
          state = SubscriptionState.STANDBY;
          tables.markState(name(), owner, state, null); // before the lock goes with the connection
          continue;
        }
        state = end == End.FAILED ? SubscriptionState.FAILED : SubscriptionState.STOPPED;
        tables.markState(name(), owner, state, null);
        return;
      } catch (SQLException | RuntimeException e) {
        if (stop.raised()) {
          break;
        }
        // A connection failed or PostgreSQL is restarting: nothing is parked for that. The lock
        // is let go (another node may take over); wait, and start over from the checkpoint.
        storageFailures++;
        state = SubscriptionState.RECONNECTING;
        log.warn(
            "Subscription {} paused by a storage failure ({} in a row), retrying: {}",
            name(),
            storageFailures,
            e.toString());
        stop.pause(reconnectDelay(storageFailures));
      } finally {
        checkpoints.runOnLockSession(null);
      }
    }
    if (state != SubscriptionState.FAILED) {
      state = SubscriptionState.STOPPED;
    }
  }

  private Duration reconnectDelay(int storageFailures) {
    long millis = options.standbyInterval().toMillis() << Math.min(storageFailures - 1, 10);
    return Duration.ofMillis(Math.min(millis, MAX_RECONNECT_DELAY.toMillis()));
  }

  /**
   * Handles until stopped, stopped by a parked event, or the segment is no longer assigned here.
   */
  private End handleUntilStopped(ControlConnection control, Position start) throws SQLException {
    Position checkpoint = start; // where reading goes on
    Position saved = start; // the stored checkpoint: compare-and-set moves it from here
    long savedAt = System.nanoTime();
    boolean atHead = false;
    boolean idle = false; // waited for appends since events were last delivered
    while (!stop.raised()) {
      if (!assignedHere.getAsBoolean()) {
        return End.HANDED_BACK;
      }
      LogFollower.Read read = follower.read(checkpoint, atHead);
      GlobalLogPage page = read.page();
      atHead = page.endOfLog();
      if (!page.events().isEmpty()) {
        if (idle && delivery instanceof Delivery.Plain) {
          // The lock's connection may have died while idle (a restart, an idle-session timeout).
          // Plain handlers act before the checkpoint is saved on it: check first, or they would
          // act again after the failed save. Transactional ones commit nothing on a dead one.
          control.requireAliveNow();
        }
        idle = false;
        // From the stored checkpoint: between it and the page are only events not wanted.
        try {
          BatchDelivery.Outcome outcome = batches.deliver(page.events(), saved);
          checkpoint = saved = moveTo(outcome.checkpoint());
          if (outcome.stopForFailure()) {
            return End.FAILED;
          }
        } catch (CheckpointMoved moved) {
          checkpoint = saved = moveTo(currentCheckpoint(control, saved));
        }
        savedAt = System.nanoTime();
        control.requireAlive();
      } else if (page.next().isAfter(checkpoint)) {
        // Only events this subscription does not want: read on past them at once, and store
        // that (so lag stays true and a restart does not read them again) now and then, not at
        // every wake-up: a filtered subscription would write as often as anyone appends.
        checkpoint = moveTo(page.next());
      }
      long sinceSaved = System.nanoTime() - savedAt;
      if (checkpoint.isAfter(saved) && sinceSaved >= SKIP_SAVE_INTERVAL.toNanos()) {
        checkpoint = saved = skipTo(control, saved, checkpoint);
        savedAt = System.nanoTime();
        sinceSaved = 0;
      }
      if (page.endOfLog()) {
        caughtUp.complete(checkpoint);
        if (!page.events().isEmpty()) {
          follower.spaceBatches(); // read again (at once unless spaced): wait only for nothing
          continue;
        }
        Duration untilSkipSave =
            checkpoint.isAfter(saved) ? SKIP_SAVE_INTERVAL.minusNanos(sinceSaved) : null;
        follower.awaitMore(read, control, untilSkipSave); // then store the skip
        idle = true;
        control.requireAlive();
      }
    }
    return End.STOPPED;
  }

  private Position skipTo(ControlConnection control, Position saved, Position next)
      throws SQLException {
    try {
      checkpoints.advance(saved, next, 0);
      return moveTo(next);
    } catch (CheckpointMoved moved) {
      return moveTo(currentCheckpoint(control, saved)); // another worker moved it
    }
  }

  private Position currentCheckpoint(ControlConnection control, Position fallback)
      throws SQLException {
    return tables.checkpoint(control.connection(), name()).orElse(fallback);
  }

  /** Re-delivers a parked event once; see {@link BatchDelivery#redeliver}. */
  boolean redeliver(long failureId) {
    return batches.redeliver(failureId);
  }

  private Position resolve(Position startFrom) {
    return startFrom.equals(Position.END) ? store.headPosition() : startFrom;
  }

  private Position moveTo(Position checkpoint) {
    synchronized (positionMoved) {
      position = checkpoint;
      positionMoved.notifyAll();
    }
    return checkpoint;
  }
}
