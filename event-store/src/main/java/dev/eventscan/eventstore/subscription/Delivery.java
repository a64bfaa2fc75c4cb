package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * How events reach the application: {@link Plain} (at least once; the checkpoint is saved after the
 * handler returns) or {@link Transactional} (inside the transaction that moves the checkpoint).
 */
sealed interface Delivery {
  /**
   * Handles events in batches, each moving the checkpoint past it in one transaction, if this
   * delivery can. Returns how many events from the start it delivered; the rest (after an event in
   * a batch failed, or all when it cannot batch) go one at a time.
   */
  int deliverBatch(List<RecordedEvent> events, Position from) throws SQLException, CheckpointMoved;

  /** Handles one event; a transactional one moves the checkpoint past it in the same commit. */
  void deliver(RecordedEvent event, Position before)
      throws SQLException, CheckpointMoved, HandlerFailed;

  /** After events were delivered one at a time: saves the checkpoint unless each one moved it. */
  void delivered(Position from, Position to, int handled) throws SQLException, CheckpointMoved;

  /** Inside the transaction that parks an event: moves the checkpoint past it if events do. */
  void parked(Connection c, RecordedEvent event, Position before)
      throws SQLException, CheckpointMoved;

  /** Delivers a parked event again, inside the transaction that settles its failure. */
  void redeliver(RecordedEvent event, Connection c) throws Exception;

  /** How a batch transaction moves the checkpoints past its events. */
  interface BatchCheckpoint {
    /**
     * Runs {@code writes}, moves them in {@code c}'s transaction and commits it, in one round trip.
     */
    void moveAndCommit(Connection c, List<RecordedEvent> batch, SqlWrites writes)
        throws SQLException, CheckpointMoved;

    /** After the transaction committed. */
    void committed(List<RecordedEvent> batch);
  }

  record Plain(EventHandler handler, CheckpointTransactions checkpoints) implements Delivery {
    @Override
    public int deliverBatch(List<RecordedEvent> events, Position from) {
      return 0; // the handler has no transaction to share with the checkpoint
    }

    @Override
    public void deliver(RecordedEvent event, Position before) throws HandlerFailed {
      try {
        handler.handle(event);
      } catch (Exception | Error e) {
        throw HandlerFailed.of(e);
      }
    }

    @Override
    public void delivered(Position from, Position to, int handled)
        throws SQLException, CheckpointMoved {
      if (!from.equals(to)) {
        checkpoints.advance(from, to, handled);
      }
    }

    @Override
    public void parked(Connection c, RecordedEvent event, Position before) {
      // the checkpoint moves with the rest of the batch, in delivered()
    }

    @Override
    public void redeliver(RecordedEvent event, Connection c) throws Exception {
      handler.handle(event);
    }
  }

  /** Events in batch transactions sized by {@link TransactionSizer}. */
  final class Transactional implements Delivery {
    static final long BUDGET_MILLIS = 10;

    private final TransactionalEventHandler handler;
    private final CheckpointTransactions checkpoints;
    private final TransactionSizer sizer = new TransactionSizer(BUDGET_MILLIS * 1_000_000);

    Transactional(TransactionalEventHandler handler, CheckpointTransactions checkpoints) {
      this.handler = handler;
      this.checkpoints = checkpoints;
    }

    @Override
    public int deliverBatch(List<RecordedEvent> events, Position from)
        throws SQLException, CheckpointMoved {
      return deliverInBatches(
          events,
          checkpoints,
          new BatchCheckpoint() {
            private Position saved = from;

            @Override
            public void moveAndCommit(Connection c, List<RecordedEvent> batch, SqlWrites writes)
                throws SQLException, CheckpointMoved {
              checkpoints.advanceAndCommit(c, writes, saved, last(batch), batch.size());
            }

            @Override
            public void committed(List<RecordedEvent> batch) {
              saved = last(batch);
            }
          });
    }

    private static Position last(List<RecordedEvent> batch) {
      return batch.get(batch.size() - 1).position();
    }

    /**
     * Handles events in batch transactions on {@code transactions}, each ending with {@code
     * checkpoint}'s move. Returns how many it delivered: all, or those before the batch in which an
     * event failed.
     */
    int deliverInBatches(
        List<RecordedEvent> events, CheckpointTransactions transactions, BatchCheckpoint checkpoint)
        throws SQLException, CheckpointMoved {
      int delivered = 0;
      while (delivered < events.size()) {
        List<RecordedEvent> batch =
            events.subList(delivered, Math.min(events.size(), delivered + sizer.next()));
        try {
          transactions.run(
              c -> {
                long started = System.nanoTime();
                SqlWrites writes = handleBatch(batch, c);
                long handled = System.nanoTime();
                moveAndCommit(checkpoint, c, batch, writes);
                // The handler's work: for one that left its writes, they ran with the commit.
                long end = writes.isEmpty() ? handled : System.nanoTime();
                sizer.took(batch.size(), end - started);
              });
        } catch (HandlerFailed failed) {
          // An event in the batch fails: one transaction per event lets everything before it
          // commit, and it alone is retried.
          return delivered;
        }
        checkpoint.committed(batch);
        delivered += batch.size();
      }
      return delivered;
    }

    @Override
    public void deliver(RecordedEvent event, Position before)
        throws SQLException, CheckpointMoved, HandlerFailed {
      checkpoints.run(
          c -> {
            handle(event, c);
            checkpoints.advanceAndCommit(c, before, event.position(), 1);
          });
    }

    @Override
    public void delivered(Position from, Position to, int handled) {
      // each event moved the checkpoint in its own transaction
    }

    @Override
    public void parked(Connection c, RecordedEvent event, Position before)
        throws SQLException, CheckpointMoved {
      checkpoints.advance(c, before, event.position(), 0);
    }

    @Override
    public void redeliver(RecordedEvent event, Connection c) throws Exception {
      handler.handle(event, c);
    }

    private void handle(RecordedEvent event, Connection c) throws HandlerFailed {
      try {
        handler.handle(event, c);
      } catch (Exception | Error e) {
        throw HandlerFailed.of(e);
      }
    }

    /** Handles a batch; returns what a {@link WritingHandler} left to send with the checkpoint. */
    private SqlWrites handleBatch(List<RecordedEvent> events, Connection c) throws HandlerFailed {
      try {
        if (handler instanceof WritingHandler writing) {
          return writing.writes(events, c);
        }
        handler.handleBatch(events, c);
        return SqlWrites.none();
      } catch (Exception | Error e) {
        throw HandlerFailed.of(e);
      }
    }

    /**
     * A failure of the round trip that also ran the handler's writes is theirs (the events are then
     * handled one at a time, where the writes run alone and fail or not on their own), unless the
     * checkpoint moved or the database went away.
     */
    private static void moveAndCommit(
        BatchCheckpoint checkpoint, Connection c, List<RecordedEvent> batch, SqlWrites writes)
        throws SQLException, CheckpointMoved, HandlerFailed {
      try {
        checkpoint.moveAndCommit(c, batch, writes);
      } catch (SQLException e) {
        if (writes.isEmpty() || StorageFailures.isTransient(e)) {
          throw e;
        }
        throw HandlerFailed.of(e);
      }
    }
  }
}
