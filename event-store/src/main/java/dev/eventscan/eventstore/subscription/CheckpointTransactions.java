package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The transactions of one subscription's worker. The checkpoint only moves by compare-and-set from
 * the position the worker read, so a worker that lost its lock without noticing yet can never
 * commit a batch that another worker already committed. While the worker holds its lock, its
 * transactions run on the lock's own session: if that connection dies, the lock goes and an open
 * transaction is aborted with it, so no other owner handles the segment while this one's
 * transaction is still open.
 */
final class CheckpointTransactions {
  @FunctionalInterface
  interface Work {
    void run(Connection c) throws Exception;
  }

  private final SubscriptionTables tables;
  private final String name;
  private final String owner;
  private final Runnable ended;

  /** The session holding the lock, or null: set and used by the worker's thread only. */
  private Connection lockSession;

  /**
   * {@code ended} runs after each transaction ends: it may have held back every global reader, and
   * the store's readers waiting behind the barrier look again at once.
   */
  CheckpointTransactions(SubscriptionTables tables, String name, String owner, Runnable ended) {
    this.tables = tables;
    this.name = name;
    this.owner = owner;
    this.ended = ended;
  }

  /** From now on the worker's transactions run on {@code session}; null: on pool connections. */
  void runOnLockSession(Connection session) {
    this.lockSession = session;
  }

  /**
   * Runs the worker's work in one transaction, on the lock's session while it is held, and rethrows
   * whatever it throws after rolling back.
   */
  void inTransaction(Work work) throws Exception {
    if (lockSession != null) {
      transact(lockSession, work);
      return;
    }
    inOwnTransaction(work);
  }

  /** {@link #inTransaction} on a pool connection, for threads other than the worker's. */
  void inOwnTransaction(Work work) throws Exception {
    try (Connection c = tables.dataSource().getConnection()) {
      transact(c, work);
    }
  }

  private void transact(Connection c, Work work) throws Exception {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      // A transaction that moves the checkpoint does not wait for the disk at commit (the
      // checkpoint's statement says so): losing it in a crash only means handling its events
      // again, as the checkpoint and a transactional read model are lost together.
      work.run(c);
      c.commit();
    } catch (Exception | Error e) {
      Jdbc.rollbackQuietly(c, e); // if the connection died, PostgreSQL has rolled back already
      throw e;
    } finally {
      ended.run();
      Jdbc.restoreAutoCommit(c, autoCommit);
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
   * Moves the checkpoint and commits {@code c}'s transaction in one round trip; the work must be
   * the last of a {@link #run} (whose own commit then has nothing left to do).
   */
  void advanceAndCommit(Connection c, Position from, Position to, int handled)
      throws SQLException, CheckpointMoved {
    advanceAndCommit(c, SqlWrites.none(), from, to, handled);
  }

  /** {@link #advanceAndCommit}, with {@code writes} run first in the same round trip. */
  void advanceAndCommit(Connection c, SqlWrites writes, Position from, Position to, int handled)
      throws SQLException, CheckpointMoved {
    if (!tables.advanceAndCommit(c, writes, name, owner, from, to, handled)) {
      throw new CheckpointMoved();
    }
  }

  /**
   * {@link #advance(Connection, Position, Position, int)} as one auto-committed statement: a
   * transaction around it would hold a transaction id, and every global reader, for a round trip.
   * On the lock's session while it is held (it is in auto-commit between the worker's
   * transactions), so a worker that lost its lock cannot move the checkpoint.
   */
  void advance(Position from, Position to, int handled) throws SQLException, CheckpointMoved {
    if (lockSession != null) {
      advance(lockSession, from, to, handled);
      return;
    }
    try (Connection c = tables.dataSource().getConnection()) {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      advance(c, from, to, handled);
    }
  }
}
