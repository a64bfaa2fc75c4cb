package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.EventStoreException;
import dev.eventscan.eventstore.EventStoreStorageException;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one named subscription on its own thread. It holds the subscription's advisory lock on a
 * dedicated connection that also LISTENs for appends; losing that connection means losing the lock,
 * so the worker stops handling and starts over (take the lock again, LISTEN again, reload the
 * checkpoint). The checkpoint only moves by compare-and-set from the position this worker read, so
 * even a worker that has not yet noticed it lost the lock can never commit a batch that another
 * worker already committed.
 */
final class SubscriptionWorker implements Subscription {
  private static final Logger log = LoggerFactory.getLogger(SubscriptionWorker.class);
  private static final Duration ALIVE_CHECK_INTERVAL = Duration.ofMillis(100);
  private static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(5);

  private final EventStore store;
  private final SubscriptionTables tables;
  private final SubscriptionOptions options;
  private final Delivery delivery;
  private final String owner;
  private final Thread thread;
  private final Object signal = new Object();

  private volatile boolean stopping;
  private volatile SubscriptionState state = SubscriptionState.STOPPED;
  private volatile Position position = Position.START;
  private final CompletableFuture<Position> caughtUp = new CompletableFuture<>();
  private long lastAliveCheck;

  /** How events reach the application: with or without the checkpoint's transaction. */
  sealed interface Delivery {
    record Plain(EventHandler handler) implements Delivery {}

    record Transactional(TransactionalEventHandler handler) implements Delivery {}
  }

  /** Another worker moved the checkpoint: roll back and start over from where it is now. */
  private static final class CheckpointMoved extends Exception {
    CheckpointMoved() {
      super(null, null, false, false);
    }
  }

  SubscriptionWorker(
      EventStore store,
      SubscriptionTables tables,
      SubscriptionOptions options,
      Delivery delivery,
      String owner) {
    this.store = store;
    this.tables = tables;
    this.options = options;
    this.delivery = delivery;
    this.owner = owner;
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
    synchronized (signal) {
      while (position.compareTo(target) < 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        signal.wait(Math.max(1, left / 1_000_000));
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
    stopping = true;
    synchronized (signal) {
      signal.notifyAll(); // ends a retry back-off early
    }
    wakeListener();
    try {
      thread.join(options.pollInterval().toMillis() + 60_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A worker waiting for a notification only wakes for one (or at its poll interval). */
  private void wakeListener() {
    try {
      Jdbc.withConnection(
          tables.dataSource(),
          "wake subscription",
          c -> {
            try (PreparedStatement notify = c.prepareStatement("SELECT pg_notify(?, 'stop')")) {
              notify.setString(1, store.notificationChannel());
              notify.executeQuery().close();
            }
            return null;
          });
    } catch (EventStoreException e) {
      log.debug("Could not wake subscription {}; it stops at its next poll", name());
    }
  }

  private void run() {
    int storageFailures = 0;
    while (!stopping) {
      Connection control = null;
      try {
        control = tables.dataSource().getConnection();
        control.setAutoCommit(true);
        if (!tryLock(control)) {
          state = SubscriptionState.STANDBY;
          Jdbc.releaseSessionConnection(control);
          control = null;
          pause(options.standbyInterval());
          continue;
        }
        try (Statement listen = control.createStatement()) {
          listen.execute("LISTEN " + store.notificationChannel());
        }
        Position checkpoint = tables.loadOrCreate(control, name(), resolve(options.startFrom()));
        moveTo(checkpoint);
        state = SubscriptionState.RUNNING;
        storageFailures = 0;
        boolean failed = handleUntilStopped(control, checkpoint);
        state = failed ? SubscriptionState.FAILED : SubscriptionState.STOPPED;
        tables.markState(name(), owner, state, null);
        return;
      } catch (SQLException | RuntimeException e) {
        if (stopping) {
          break;
        }
        // A connection failed or PostgreSQL is restarting: nothing is parked for that. Let go of
        // the lock (another node may take over), wait, and start over from the checkpoint.
        storageFailures++;
        state = SubscriptionState.RECONNECTING;
        log.warn(
            "Subscription {} paused by a storage failure ({} in a row), retrying: {}",
            name(),
            storageFailures,
            e.toString());
        Jdbc.releaseSessionConnection(control);
        control = null;
        pause(reconnectDelay(storageFailures));
      } finally {
        Jdbc.releaseSessionConnection(control);
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

  /** Returns true if stopped by a failure under {@link FailurePolicy#PARK_AND_STOP}. */
  private boolean handleUntilStopped(Connection control, Position start) throws SQLException {
    Position checkpoint = start;
    while (!stopping) {
      GlobalLogPage page = store.readAll(checkpoint, options.filter(), options.batchSize());
      if (!page.events().isEmpty()) {
        try {
          BatchOutcome outcome = handleBatch(page.events(), checkpoint);
          checkpoint = outcome.checkpoint();
          moveTo(checkpoint);
          if (outcome.stopForFailure()) {
            return true;
          }
        } catch (CheckpointMoved moved) {
          checkpoint = tables.checkpoint(control, name()).orElse(checkpoint);
          moveTo(checkpoint);
        }
        requireAlive(control);
      }
      if (page.events().isEmpty() && page.next().isAfter(checkpoint)) {
        // Only events this subscription does not want: move past them, so its lag stays true
        // and a restart does not read them again.
        checkpoint = skipTo(control, checkpoint, page.next());
      }
      if (page.endOfLog()) {
        caughtUp.complete(checkpoint);
        awaitAppend(control);
      }
    }
    return false;
  }

  private Position skipTo(Connection control, Position checkpoint, Position next)
      throws SQLException {
    try {
      inWorkerTransaction(
          c -> {
            if (!tables.advance(c, name(), owner, checkpoint, next, 0)) {
              throw new CheckpointMoved();
            }
          });
    } catch (CheckpointMoved | HandlerFailed moved) {
      Position current = tables.checkpoint(control, name()).orElse(checkpoint);
      moveTo(current);
      return current; // another worker moved it: carry on from where it is
    }
    moveTo(next);
    return next;
  }

  private record BatchOutcome(Position checkpoint, boolean stopForFailure) {}

  private BatchOutcome handleBatch(List<RecordedEvent> events, Position checkpoint)
      throws SQLException, CheckpointMoved {
    if (delivery instanceof Delivery.Transactional) {
      try {
        return new BatchOutcome(handleInOneTransaction(events, checkpoint), false);
      } catch (HandlerFailed failed) {
        // Somewhere in the batch is an event that fails: go one event per transaction, so
        // everything before it commits and it alone is retried.
      }
    }
    Position current = checkpoint;
    int handledSinceCheckpoint = 0;
    for (RecordedEvent event : events) {
      if (stopping) {
        break;
      }
      boolean delivered = deliverWithRetries(event, current);
      if (delivery instanceof Delivery.Transactional) {
        current = event.position(); // committed with its checkpoint, or parked with it
      } else {
        handledSinceCheckpoint++;
        current = event.position();
      }
      if (!delivered && options.failurePolicy() == FailurePolicy.PARK_AND_STOP) {
        savePlainCheckpoint(checkpoint, current, handledSinceCheckpoint);
        return new BatchOutcome(current, true);
      }
    }
    savePlainCheckpoint(checkpoint, current, handledSinceCheckpoint);
    return new BatchOutcome(current, false);
  }

  private void savePlainCheckpoint(Position from, Position to, int handled)
      throws SQLException, CheckpointMoved {
    if (!(delivery instanceof Delivery.Plain) || from.equals(to)) {
      return;
    }
    try {
      inWorkerTransaction(
          c -> {
            if (!tables.advance(c, name(), owner, from, to, handled)) {
              throw new CheckpointMoved();
            }
          });
    } catch (HandlerFailed impossible) {
      throw new IllegalStateException(impossible);
    }
  }

  private static final class HandlerFailed extends Exception {
    HandlerFailed(Throwable cause) {
      super(cause);
    }
  }

  private Position handleInOneTransaction(List<RecordedEvent> events, Position checkpoint)
      throws SQLException, CheckpointMoved, HandlerFailed {
    TransactionalEventHandler handler = ((Delivery.Transactional) delivery).handler();
    RecordedEvent last = events.get(events.size() - 1);
    inWorkerTransaction(
        c -> {
          for (RecordedEvent event : events) {
            try {
              handler.handle(event, c);
            } catch (Exception e) {
              throw handlerFailure(e);
            }
          }
          if (!tables.advance(c, name(), owner, checkpoint, last.position(), events.size())) {
            throw new CheckpointMoved();
          }
        });
    return last.position();
  }

  /**
   * Delivers one event until it succeeds or the retry policy gives up; then parks it. Returns
   * whether the handler succeeded. For transactional delivery the checkpoint moves past the event
   * in the same transaction as its handling or its parking.
   */
  private boolean deliverWithRetries(RecordedEvent event, Position before)
      throws SQLException, CheckpointMoved {
    RetryPolicy retry = options.retryPolicy();
    for (int attempt = 1; ; attempt++) {
      Exception failure;
      try {
        deliverOnce(event, before);
        return true;
      } catch (HandlerFailed e) {
        failure = (Exception) e.getCause();
      }
      if (attempt >= retry.maxAttempts() || stopping) {
        if (stopping && attempt < retry.maxAttempts()) {
          throw new CheckpointMoved(); // stop now; the event is delivered again after a restart
        }
        park(event, before, failure, attempt);
        return false;
      }
      log.debug("Subscription {}: attempt {} on {} failed", name(), attempt, event.eventId());
      pause(retry.delayAfter(attempt));
    }
  }

  private void deliverOnce(RecordedEvent event, Position before)
      throws SQLException, CheckpointMoved, HandlerFailed {
    if (delivery instanceof Delivery.Plain plain) {
      try {
        plain.handler().handle(event);
      } catch (Exception e) {
        throw handlerFailure(e);
      }
      return;
    }
    TransactionalEventHandler handler = ((Delivery.Transactional) delivery).handler();
    inWorkerTransaction(
        c -> {
          try {
            handler.handle(event, c);
          } catch (Exception e) {
            throw handlerFailure(e);
          }
          if (!tables.advance(c, name(), owner, before, event.position(), 1)) {
            throw new CheckpointMoved();
          }
        });
  }

  /**
   * A handler's exception as a failure of that event, unless the database or a connection failed
   * underneath it: then the subscription pauses and retries, and nothing is parked.
   */
  private static HandlerFailed handlerFailure(Exception e) {
    if (StorageFailures.isTransient(e)) {
      throw new EventStoreStorageException("a handler's database work failed: " + e, e);
    }
    return new HandlerFailed(e);
  }

  private void park(RecordedEvent event, Position before, Throwable failure, int attempts)
      throws SQLException, CheckpointMoved {
    log.warn(
        "Subscription {} parks event {} ({}) after {} attempts: {}",
        name(),
        event.eventId(),
        event.type(),
        attempts,
        failure.toString());
    boolean transactional = delivery instanceof Delivery.Transactional;
    try {
      inWorkerTransaction(
          c -> {
            tables.park(c, name(), event, failure, attempts);
            if (transactional && !tables.advance(c, name(), owner, before, event.position(), 0)) {
              throw new CheckpointMoved();
            }
          });
    } catch (HandlerFailed impossible) {
      throw new IllegalStateException(impossible);
    }
  }

  /**
   * Re-delivers a parked event once, holding the failure's row lock from the check that it is open
   * until it is marked retried: a second retry at the same time waits, then finds it settled. True
   * if the handler succeeded this time.
   */
  boolean redeliver(long failureId) {
    try {
      inTransaction(
          c -> {
            ParkedFailure failure = tables.lockOpenFailure(c, failureId);
            RecordedEvent event = readEvent(failure.position());
            if (delivery instanceof Delivery.Plain plain) {
              plain.handler().handle(event);
            } else {
              ((Delivery.Transactional) delivery).handler().handle(event, c);
            }
            tables.settleFailure(c, failureId, ParkedFailure.RETRIED);
          });
      return true;
    } catch (EventStoreException refused) {
      throw refused; // unknown or already settled: nothing was delivered
    } catch (Exception e) {
      Jdbc.withConnection(
          tables.dataSource(),
          "record failed retry",
          c -> {
            tables.recordFailedRetry(c, failureId, e);
            return null;
          });
      return false;
    }
  }

  private RecordedEvent readEvent(Position position) {
    return Jdbc.withConnection(
        tables.dataSource(),
        "read parked event",
        c -> {
          try (PreparedStatement select =
              c.prepareStatement(
                  "SELECT %s FROM %s.events WHERE id = ?"
                      .formatted(
                          dev.eventscan.eventstore.internal.EventRows.COLUMNS, tables.schema()))) {
            select.setLong(1, position.eventId());
            try (ResultSet row = select.executeQuery()) {
              if (!row.next()) {
                throw new UnknownFailureException(position.eventId(), "refers to a missing event");
              }
              return dev.eventscan.eventstore.internal.EventRows.map(row);
            }
          }
        });
  }

  @FunctionalInterface
  private interface TransactionWork {
    void run(Connection c) throws Exception;
  }

  private void inTransaction(TransactionWork work) throws Exception {
    try (Connection c = tables.dataSource().getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        // Losing this commit in a crash only means handling its events again (the checkpoint
        // and a transactional read model are lost together), so it need not wait for the disk.
        try (Statement relaxed = c.createStatement()) {
          relaxed.execute("SET LOCAL synchronous_commit TO off");
        }
        work.run(c);
        c.commit();
      } catch (Exception | Error e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    }
  }

  /** {@link #inTransaction} for work whose only checked failures are the worker's own. */
  private void inWorkerTransaction(TransactionWork work)
      throws SQLException, CheckpointMoved, HandlerFailed {
    try {
      inTransaction(work);
    } catch (SQLException | CheckpointMoved | HandlerFailed | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("unexpected failure in subscription " + name(), e);
    }
  }

  private Position resolve(Position startFrom) {
    return startFrom.equals(Position.END) ? store.headPosition() : startFrom;
  }

  private void moveTo(Position checkpoint) {
    synchronized (signal) {
      position = checkpoint;
      signal.notifyAll();
    }
  }

  /** Waits for a notification or the poll interval; fails if the connection is gone. */
  private void awaitAppend(Connection control) throws SQLException {
    PGConnection listening = control.unwrap(PGConnection.class);
    listening.getNotifications((int) options.pollInterval().toMillis());
    requireAlive(control);
  }

  /**
   * Checks the lock-holding connection, at most every {@link #ALIVE_CHECK_INTERVAL}: a lost lock is
   * noticed within that time, and the compare-and-set checkpoint keeps a late worker harmless
   * meanwhile.
   */
  private void requireAlive(Connection control) throws SQLException {
    long now = System.nanoTime();
    if (now - lastAliveCheck < ALIVE_CHECK_INTERVAL.toNanos()) {
      return;
    }
    lastAliveCheck = now;
    try (Statement ping = control.createStatement()) {
      ping.execute("SELECT 1");
    }
    control.unwrap(PGConnection.class).getNotifications(); // drop hints already acted on
  }

  private boolean tryLock(Connection control) throws SQLException {
    try (PreparedStatement lock =
        control.prepareStatement("SELECT pg_try_advisory_lock(" + LOCK_KEY + ")")) {
      lock.setString(1, tables.schema() + "/" + name());
      try (ResultSet row = lock.executeQuery()) {
        row.next();
        return row.getBoolean(1);
      }
    }
  }

  /** A 64-bit key from the subscription's schema and name, so names practically never collide. */
  private static final String LOCK_KEY = "('x' || substr(md5(?), 1, 16))::bit(64)::bigint";

  private void pause(Duration duration) {
    synchronized (signal) {
      if (!stopping) {
        try {
          signal.wait(Math.max(1, duration.toMillis()));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          stopping = true;
        }
      }
    }
  }
}
