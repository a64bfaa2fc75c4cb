package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.position.Position;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The transactions of one subscription's worker. The checkpoint only moves by compare-and-set from
 * the position the worker read, so a worker that lost its lock without noticing yet can never
 * commit a batch that another worker already committed.
 */
final class CheckpointTransactions {
  @FunctionalInterface
  interface Work {
    void run(Connection c) throws Exception;
  }

  private final SubscriptionTables tables;
  private final String name;
  private final String owner;

  CheckpointTransactions(SubscriptionTables tables, String name, String owner) {
    this.tables = tables;
    this.name = name;
    this.owner = owner;
  }

  /** Runs work in one transaction and rethrows whatever it throws after rolling back. */
  void inTransaction(Work work) throws Exception {
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
  void run(Work work) throws SQLException, CheckpointMoved, HandlerFailed {
    try {
      inTransaction(work);
    } catch (SQLException | CheckpointMoved | HandlerFailed | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("unexpected failure in subscription " + name, e);
    }
  }

  /** Moves the checkpoint in {@code c}'s transaction, only if it is still at {@code from}. */
  void advance(Connection c, Position from, Position to, int handled)
      throws SQLException, CheckpointMoved {
    if (!tables.advance(c, name, owner, from, to, handled)) {
      throw new CheckpointMoved();
    }
  }

  /**
   * {@link #advance(Connection, Position, Position, int)} as one auto-committed statement: a
   * transaction around it would hold a transaction id, and every global reader, for a round trip.
   */
  void advance(Position from, Position to, int handled) throws SQLException, CheckpointMoved {
    try (Connection c = tables.dataSource().getConnection()) {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      advance(c, from, to, handled);
    }
  }
}
