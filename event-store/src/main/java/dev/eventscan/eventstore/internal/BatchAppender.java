package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.AppendResult;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.MetadataJson;
import dev.eventscan.eventstore.stream.StreamAppend;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Writes a batch of single-stream appends (exact expectations, one append per stream) with one
 * INSERT and one commit, without letting one append's refusal fail another:
 *
 * <ul>
 *   <li>each row carries its append's expected version; the existence probe of the one-append path
 *       runs per row, so an append whose expected version does not hold inserts nothing;
 *   <li>{@code ON CONFLICT DO NOTHING} turns what would abort the statement (a version or an event
 *       id taken by someone else) into rows not inserted, so there is no SAVEPOINT per append and
 *       no subtransaction at all;
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
  private final DataSource dataSource;
  private final String notifyInTransactionChannel;
  private final Runnable afterCommit;
  private final String insertSql;
  private final String undoSql;

  BatchAppender(
      DataSource dataSource,
      String schema,
      String notifyInTransactionChannel,
      Runnable afterCommit) {
    this.dataSource = dataSource;
    this.notifyInTransactionChannel = notifyInTransactionChannel;
    this.afterCommit = afterCommit;
    // Expected version 0 (no stream) needs no probe: version 1 conflicts if the stream exists.
    // The probe is a scalar subquery, not EXISTS: the planner may run an EXISTS under OR as a
    // hashed subplan, which reads the whole events table once per batch.
    this.insertSql =
        """
        WITH appended AS (
          INSERT INTO %1$s.events (event_id, stream_id, stream_version, type, data, metadata)
          SELECT u.event_id, u.stream_id, u.expected + u.ord, u.type, u.data::jsonb,
                 u.metadata::jsonb
            FROM unnest(?::uuid[], ?::text[], ?::bigint[], ?::int[], ?::text[], ?::text[], ?::text[])
                 WITH ORDINALITY AS u(event_id, stream_id, expected, ord, type, data, metadata, n)
           WHERE u.expected = 0
              OR (SELECT e.type FROM %1$s.events e
                   WHERE e.stream_id = u.stream_id AND e.stream_version = u.expected)
                 <> '$stream-deleted'
           ORDER BY u.n
          ON CONFLICT DO NOTHING
          RETURNING stream_id, stream_version, transaction_id, id
        ), created AS (
          INSERT INTO %1$s.streams (stream_id)
          SELECT stream_id FROM appended WHERE stream_version = 1
          ON CONFLICT DO NOTHING
          RETURNING stream_id
        )
        SELECT a.stream_id, a.stream_version, a.transaction_id::text, a.id,
               a.stream_version = 1 AND a.stream_id IN (SELECT stream_id FROM created)
          FROM appended a
        """
            .formatted(schema);
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

  /** The rows one append got in. */
  private static final class Written {
    final List<Long> ids = new ArrayList<>();
    long lastVersion;
    long lastId;
    String transactionId;
    boolean createdStream;
  }

  List<BatchOutcome> write(List<StreamAppend> batch) {
    // Rows in stream-id order, as atomic appends take them, so writers never wait in a cycle.
    List<StreamAppend> sorted = new ArrayList<>(batch);
    sorted.sort(Comparator.comparing(StreamAppend::streamId));
    boolean oneEventEach = batch.stream().allMatch(append -> append.events().size() == 1);
    // Single events cannot be half written: then the INSERT alone is the transaction.
    boolean autoCommit = oneEventEach && notifyInTransactionChannel == null;
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
    Map<String, Written> written;
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
      Map<String, Written> written = insert(connection, sorted);
      undoHalfWritten(connection, batch, written);
      outcomes = outcomes(batch, written);
      if (notifyInTransactionChannel != null) {
        try (PreparedStatement notify = connection.prepareStatement("SELECT pg_notify(?, '')")) {
          notify.setString(1, notifyInTransactionChannel);
          notify.executeQuery().close();
        }
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

  private Map<String, Written> insert(Connection connection, List<StreamAppend> sorted)
      throws SQLException {
    int rows = sorted.stream().mapToInt(append -> append.events().size()).sum();
    UUID[] ids = new UUID[rows];
    String[] streams = new String[rows];
    Long[] expected = new Long[rows];
    Integer[] ords = new Integer[rows];
    String[] types = new String[rows];
    String[] data = new String[rows];
    String[] metadata = new String[rows];
    int row = 0;
    for (StreamAppend append : sorted) {
      long version =
          append.expectedVersion() instanceof ExpectedVersion.Exactly exactly
              ? exactly.version()
              : 0;
      int ord = 1;
      for (EventData event : append.events()) {
        ids[row] = event.eventId();
        streams[row] = append.streamId();
        expected[row] = version;
        ords[row] = ord++;
        types[row] = event.type();
        data[row] = event.data();
        metadata[row] = MetadataJson.write(event.metadata());
        row++;
      }
    }
    Map<String, Written> written = new HashMap<>();
    try (PreparedStatement statement = connection.prepareStatement(insertSql)) {
      statement.setArray(1, connection.createArrayOf("uuid", ids));
      statement.setArray(2, connection.createArrayOf("text", streams));
      statement.setArray(3, connection.createArrayOf("bigint", expected));
      statement.setArray(4, connection.createArrayOf("int4", ords));
      statement.setArray(5, connection.createArrayOf("text", types));
      statement.setArray(6, connection.createArrayOf("text", data));
      statement.setArray(7, connection.createArrayOf("text", metadata));
      try (ResultSet result = statement.executeQuery()) {
        while (result.next()) {
          Written stream = written.computeIfAbsent(result.getString(1), id -> new Written());
          long version = result.getLong(2);
          long id = result.getLong(4);
          stream.ids.add(id);
          if (version > stream.lastVersion) {
            stream.lastVersion = version;
            stream.lastId = id;
            stream.transactionId = result.getString(3);
          }
          stream.createdStream |= result.getBoolean(5);
        }
      }
    }
    return written;
  }

  /** Deletes the rows of appends that got only some events in; they then count as not written. */
  private void undoHalfWritten(
      Connection connection, List<StreamAppend> batch, Map<String, Written> written)
      throws SQLException {
    List<Long> rows = new ArrayList<>();
    List<String> createdStreams = new ArrayList<>();
    for (StreamAppend append : batch) {
      Written stream = written.get(append.streamId());
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
      List<StreamAppend> batch, Map<String, Written> written) {
    List<BatchOutcome> outcomes = new ArrayList<>(batch.size());
    for (StreamAppend append : batch) {
      Written stream = written.get(append.streamId());
      outcomes.add(
          stream != null && stream.ids.size() == append.events().size()
              ? new BatchOutcome.Appended(
                  new AppendResult(
                      append.streamId(),
                      stream.lastVersion,
                      Position.of(stream.transactionId, stream.lastId)))
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
