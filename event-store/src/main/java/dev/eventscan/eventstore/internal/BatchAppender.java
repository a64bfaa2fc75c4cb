package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.stream.AppendResult;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.StreamAppend;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Writes a batch of single-stream appends (exact expectations, one append per stream) with one
 * INSERT and one commit, without letting one append's refusal fail another:
 *
 * <ul>
 *   <li>each row carries its append's expected version, checked by the same guard as a lone
 *       append's ({@link GuardedInsert}), so an append whose expectation does not hold inserts
 *       nothing;
 *   <li>a version or an event id taken by someone else fails the INSERT as a whole, which then runs
 *       again with {@code ON CONFLICT DO NOTHING}: the rows that conflict are left out, with no
 *       SAVEPOINT per append and no subtransaction at all. After a conflict, batches skip conflicts
 *       from the start for a second (contention tends to last); the rest of the time they do
 *       without, as skipping costs every row PostgreSQL's speculative insertion;
 *   <li>an append with several events that got only some of them in (a conflict on a later version
 *       or event id) has those rows deleted again before the commit.
 * </ul>
 *
 * An append that wrote nothing is {@link BatchOutcome.NotWritten}: its caller appends on its own,
 * and that path explains the refusal (conflict, deleted stream, duplicate id, or an earlier append
 * of the same ids, whose result it returns). The INSERT is one statement under READ COMMITTED: its
 * snapshot is taken before its transaction id, so it never builds on an append from a younger
 * transaction, and per stream the global order stays the version order.
 */
final class BatchAppender {
  private static final long SKIP_CONFLICTS_NANOS = 1_000_000_000L;
  private static final String UNIQUE_VIOLATION = "23505";

  private final DataSource dataSource;
  private final InTransactionHint inTransactionHint; // null unless NotifyMode.IN_TRANSACTION
  private final Runnable afterCommit;
  private final GuardedInsert guardedInsert;
  private final String undoSql;
  private volatile long skipConflictsUntil = System.nanoTime(); // not before a conflict

  BatchAppender(
      DataSource dataSource,
      String schema,
      GuardedInsert guardedInsert,
      InTransactionHint inTransactionHint,
      Runnable afterCommit) {
    this.dataSource = dataSource;
    this.guardedInsert = guardedInsert;
    this.inTransactionHint = inTransactionHint;
    this.afterCommit = afterCommit;
    this.undoSql =
        """
        WITH undone AS (DELETE FROM %1$s.events WHERE id = ANY(?::bigint[]))
        DELETE FROM %1$s.streams WHERE stream_id = ANY(?::text[])
        """
            .formatted(schema);
  }

  /** Whether a batch can take this append: an exact expectation (aggregates' case). */
  static boolean accepts(StreamAppend append) {
    return append.expectedVersion() instanceof ExpectedVersion.Exactly
        || append.expectedVersion() instanceof ExpectedVersion.NoStream;
  }

  List<BatchOutcome> write(List<StreamAppend> batch) {
    // Rows in stream-id order, as atomic appends take them, so writers never wait in a cycle.
    List<StreamAppend> sorted = new ArrayList<>(batch);
    sorted.sort(Comparator.comparing(StreamAppend::streamId));
    boolean oneEventEach = batch.stream().allMatch(append -> append.events().size() == 1);
    // Single events cannot be half written: then the INSERT alone is the transaction.
    boolean autoCommit = oneEventEach && inTransactionHint == null;
    try (Connection connection = dataSource.getConnection()) {
      boolean previousAutoCommit = connection.getAutoCommit();
      try {
        connection.setAutoCommit(autoCommit);
        return autoCommit
            ? writeInOneStatement(connection, batch, sorted)
            : writeInTransaction(connection, batch, sorted);
      } finally {
        Jdbc.restoreAutoCommit(connection, previousAutoCommit);
      }
    } catch (SQLException e) {
      return all(batch, new BatchOutcome.NotWritten()); // no connection: nothing was sent
    }
  }

  private List<BatchOutcome> writeInOneStatement(
      Connection connection, List<StreamAppend> batch, List<StreamAppend> sorted) {
    Map<String, GuardedInsert.Written> written;
    try {
      written = insert(connection, sorted);
    } catch (SQLException e) {
      return Jdbc.isConnectionFailure(e)
          ? all(batch, new BatchOutcome.Unknown(e))
          : all(batch, new BatchOutcome.NotWritten());
    }
    List<BatchOutcome> outcomes = outcomes(batch, written);
    afterCommitIfWritten(outcomes);
    return outcomes;
  }

  private List<BatchOutcome> writeInTransaction(
      Connection connection, List<StreamAppend> batch, List<StreamAppend> sorted) {
    List<BatchOutcome> outcomes;
    try {
      Map<String, GuardedInsert.Written> written = insert(connection, sorted);
      undoHalfWritten(connection, batch, written);
      outcomes = outcomes(batch, written);
      if (inTransactionHint != null) {
        inTransactionHint.send(connection);
      }
    } catch (SQLException e) {
      // Not committed (a session that dies before COMMIT is rolled back): nothing was written.
      Jdbc.rollbackQuietly(connection, e);
      return all(batch, new BatchOutcome.NotWritten());
    }
    try {
      connection.commit();
    } catch (SQLException e) {
      if (!Jdbc.isConnectionFailure(e)) {
        Jdbc.rollbackQuietly(connection, e);
        return all(batch, new BatchOutcome.NotWritten());
      }
      List<BatchOutcome> unknown = new ArrayList<>();
      for (BatchOutcome outcome : outcomes) {
        // Appends with no row in the batch were not written, whatever became of the commit.
        unknown.add(
            outcome instanceof BatchOutcome.Appended ? new BatchOutcome.Unknown(e) : outcome);
      }
      return unknown;
    }
    afterCommitIfWritten(outcomes);
    return outcomes;
  }

  /**
   * The batch's INSERT, failing on a conflict unless one was met within the last second; after one
   * fails it (nothing of it was written: the statement, or the transaction it began, is rolled
   * back), the same rows again, skipping conflicts.
   */
  private Map<String, GuardedInsert.Written> insert(
      Connection connection, List<StreamAppend> sorted) throws SQLException {
    if (System.nanoTime() - skipConflictsUntil >= 0) {
      try {
        return guardedInsert.insertBatch(connection, sorted, false);
      } catch (SQLException e) {
        if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
          throw e;
        }
        skipConflictsUntil = System.nanoTime() + SKIP_CONFLICTS_NANOS;
        if (!connection.getAutoCommit()) {
          connection.rollback();
        }
      }
    }
    return guardedInsert.insertBatch(connection, sorted, true);
  }

  /** Deletes the rows of appends that got only some events in; they then count as not written. */
  private void undoHalfWritten(
      Connection connection, List<StreamAppend> batch, Map<String, GuardedInsert.Written> written)
      throws SQLException {
    List<Long> rows = new ArrayList<>();
    List<String> createdStreams = new ArrayList<>();
    for (StreamAppend append : batch) {
      GuardedInsert.Written stream = written.get(append.streamId());
      if (stream != null && stream.ids.size() != append.events().size()) {
        rows.addAll(stream.ids);
        if (stream.createdStream) {
          createdStreams.add(append.streamId());
        }
        written.remove(append.streamId());
      }
    }
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement undo = connection.prepareStatement(undoSql)) {
      undo.setArray(1, connection.createArrayOf("bigint", rows.toArray()));
      undo.setArray(2, connection.createArrayOf("text", createdStreams.toArray()));
      undo.executeUpdate();
    }
  }

  private static List<BatchOutcome> outcomes(
      List<StreamAppend> batch, Map<String, GuardedInsert.Written> written) {
    List<BatchOutcome> outcomes = new ArrayList<>(batch.size());
    for (StreamAppend append : batch) {
      GuardedInsert.Written stream = written.get(append.streamId());
      outcomes.add(
          stream != null && stream.ids.size() == append.events().size()
              ? new BatchOutcome.Appended(
                  new AppendResult(append.streamId(), stream.lastVersion, stream.lastPosition()))
              : new BatchOutcome.NotWritten());
    }
    return outcomes;
  }

  private void afterCommitIfWritten(List<BatchOutcome> outcomes) {
    if (outcomes.stream().anyMatch(BatchOutcome.Appended.class::isInstance)) {
      afterCommit.run();
    }
  }

  private static List<BatchOutcome> all(List<StreamAppend> batch, BatchOutcome outcome) {
    BatchOutcome[] outcomes = new BatchOutcome[batch.size()];
    Arrays.fill(outcomes, outcome);
    return Collections.unmodifiableList(Arrays.asList(outcomes));
  }
}
