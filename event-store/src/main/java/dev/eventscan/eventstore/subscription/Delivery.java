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
   * Handles a whole batch and moves the checkpoint past it in one transaction, if this delivery
   * can. False when it cannot or an event in it fails: then events go one at a time.
   */
  boolean deliverBatch(List<RecordedEvent> events, Position from)
      throws SQLException, CheckpointMoved;

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

  record Plain(EventHandler handler, CheckpointTransactions checkpoints) implements Delivery {
    @Override
    public boolean deliverBatch(List<RecordedEvent> events, Position from) {
      return false; // the handler has no transaction to share with the checkpoint
    }

    @Override
    public void deliver(RecordedEvent event, Position before) throws HandlerFailed {
      try {
        handler.handle(event);
      } catch (Exception e) {
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

  record Transactional(TransactionalEventHandler handler, CheckpointTransactions checkpoints)
      implements Delivery {
    @Override
    public boolean deliverBatch(List<RecordedEvent> events, Position from)
        throws SQLException, CheckpointMoved {
      Position last = events.get(events.size() - 1).position();
      try {
        checkpoints.run(
            c -> {
              for (RecordedEvent event : events) {
                handle(event, c);
              }
              checkpoints.advance(c, from, last, events.size());
            });
        return true;
      } catch (HandlerFailed failed) {
        // An event in the batch fails: one transaction per event lets everything before it
        // commit, and it alone is retried.
        return false;
      }
    }

    @Override
    public void deliver(RecordedEvent event, Position before)
        throws SQLException, CheckpointMoved, HandlerFailed {
      checkpoints.run(
          c -> {
            handle(event, c);
            checkpoints.advance(c, before, event.position(), 1);
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
      } catch (Exception e) {
        throw HandlerFailed.of(e);
      }
    }
  }
}
