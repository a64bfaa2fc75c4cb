package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.global.StreamSegment;
import dev.eventscan.eventstore.internal.EventRows;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/** The SQL of the subscriptions and processing_failures tables. */
final class SubscriptionTables {
  /** What {@code checkpoint_moved()} raises (V10). */
  private static final String CHECKPOINT_MOVED = "ES001";

  /** The checkpoint's compare-and-set; the commit need not wait for the disk. */
  private static final String ADVANCE =
      """
      WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true))
      UPDATE %s.subscriptions
         SET transaction_id = ?::text::xid8, event_id = ?, owner = ?, status = 'running',
             events_handled = events_handled + ?, last_handled_at = now(), updated_at = now()
        FROM relaxed
       WHERE name = ? AND transaction_id = ?::text::xid8 AND event_id = ?""";

  private final DataSource dataSource;
  private final String schema;
  private final String advanceSql;
  private final String advanceAndCommitSql;
  private final String advanceAllSql;

  SubscriptionTables(DataSource dataSource, String schema) {
    this.dataSource = dataSource;
    this.schema = schema;
    this.advanceSql = ADVANCE.formatted(schema);
    // A moved checkpoint fails the statement, so the COMMIT sent along does not run.
    this.advanceAndCommitSql =
        """
        WITH moved AS (%s RETURNING 1)
        SELECT CASE WHEN EXISTS (SELECT FROM moved) THEN 1 ELSE %s.checkpoint_moved(?) END;
        COMMIT"""
            .formatted(advanceSql, schema);
    // Every row moves or none: a row count short of the moves fails the statement, as above.
    this.advanceAllSql =
        """
        WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)),
        moved AS (
          UPDATE %1$s.subscriptions s
             SET transaction_id = u.to_tx::xid8, event_id = u.to_id, owner = ?,
                 status = 'running', events_handled = s.events_handled + u.handled,
                 last_handled_at = now(), updated_at = now()
            FROM relaxed,
                 unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::bigint[], ?::int[])
                   AS u(name, from_tx, from_id, to_tx, to_id, handled)
           WHERE s.name = u.name AND s.transaction_id = u.from_tx::xid8
             AND s.event_id = u.from_id
          RETURNING 1)
        SELECT CASE WHEN (SELECT count(*) FROM moved) = ? THEN 1
                    ELSE %1$s.checkpoint_moved(?) END"""
            .formatted(schema);
  }

  DataSource dataSource() {
    return dataSource;
  }

  String schema() {
    return schema;
  }

  /** The checkpoint, created at {@code startFrom} if the subscription is new. */
  Position loadOrCreate(Connection c, String name, Position startFrom, int segments)
      throws SQLException {
    try (PreparedStatement insert =
        c.prepareStatement(
            """
            INSERT INTO %s.subscriptions (name, transaction_id, event_id, segments)
            VALUES (?, ?::text::xid8, ?, ?) ON CONFLICT (name) DO NOTHING
            """
                .formatted(schema))) {
      insert.setString(1, name);
      insert.setString(2, startFrom.transactionIdText());
      insert.setLong(3, startFrom.eventId());
      insert.setInt(4, segments);
      insert.executeUpdate();
    }
    return checkpoint(c, name).orElseThrow();
  }

  /**
   * Refuses to run {@code name} with {@code segments} when its checkpoints were made with another
   * count: the streams would be split differently, and events skipped or handled twice.
   */
  void requireSegmentCount(String name, int segments) {
    List<Integer> stored =
        Jdbc.withConnection(
            dataSource,
            "read segment count",
            c ->
                Jdbc.query(
                    c,
                    "SELECT DISTINCT segments FROM %s.subscriptions WHERE %s"
                        .formatted(schema, ROWS_OF_NAME),
                    s -> bindRowsOfName(s, 1, name),
                    row -> row.getInt(1)));
    for (int count : stored) {
      if (count != segments) {
        throw new IllegalStateException(
            "subscription "
                + name
                + " has checkpoints for "
                + count
                + " segment(s) and cannot run with "
                + segments
                + "; stop it on every node and call Subscriptions.resegment first");
      }
    }
  }

  /** The checkpoint rows of a subscription: its own name, or its segments' {@code name#index}. */
  private static final String ROWS_OF_NAME =
      "(name = ? OR (left(name, length(?) + 1) = ? || '#'"
          + " AND substr(name, length(?) + 2) ~ '^[0-9]+$'))";

  private static void bindRowsOfName(PreparedStatement s, int first, String name)
      throws SQLException {
    for (int i = 0; i < 4; i++) {
      s.setString(first + i, name);
    }
  }

  /**
   * Replaces a subscription's checkpoints by {@code segments} new ones, all at the lowest old one,
   * and moves its open parked failures to the segment of their stream. Refused while any of the old
   * or new checkpoints is held by a running worker anywhere.
   */
  void resegment(String name, int segments) {
    Jdbc.inTransaction(
        dataSource,
        "resegment " + name,
        c -> {
          List<String> oldRows =
              Jdbc.query(
                  c,
                  "SELECT name FROM %s.subscriptions WHERE %s FOR UPDATE"
                      .formatted(schema, ROWS_OF_NAME),
                  s -> bindRowsOfName(s, 1, name),
                  row -> row.getString(1));
          if (oldRows.isEmpty()) {
            return null; // nothing to move: a new subscription starts where its options say
          }
          List<String> newRows = new ArrayList<>();
          for (int index = 0; index < segments; index++) {
            newRows.add(segments == 1 ? name : SubscriptionOptions.checkpointName(name, index));
          }
          for (String row : distinct(oldRows, newRows)) {
            boolean free =
                Jdbc.query(
                        c,
                        "SELECT pg_try_advisory_xact_lock(" + ControlConnection.LOCK_KEY + ")",
                        s -> s.setString(1, schema + "/" + row),
                        r -> r.getBoolean(1))
                    .get(0);
            if (!free) {
              throw new IllegalStateException(
                  "subscription " + row + " is running; stop it on every node before resegmenting");
            }
          }
          Position lowest = Position.END;
          for (String row : oldRows) {
            Position position = checkpoint(c, row).orElseThrow();
            lowest = position.compareTo(lowest) < 0 ? position : lowest;
          }
          Jdbc.update(
              c,
              "DELETE FROM %s.subscriptions WHERE %s".formatted(schema, ROWS_OF_NAME),
              s -> bindRowsOfName(s, 1, name));
          for (String row : newRows) {
            loadOrCreate(c, row, lowest, segments);
          }
          Jdbc.update(
              c,
              ("UPDATE %s.processing_failures SET subscription = CASE WHEN ? = 1 THEN ?"
                      + " ELSE ? || '#' || (%s %% ?) END WHERE status = 'open' AND %s")
                  .formatted(
                      schema, StreamSegment.SQL_HASH, ROWS_OF_NAME.replace("name", "subscription")),
              s -> {
                s.setInt(1, segments);
                s.setString(2, name);
                s.setString(3, name);
                s.setInt(4, segments);
                bindRowsOfName(s, 5, name);
              });
          return null;
        });
  }

  private static List<String> distinct(List<String> first, List<String> second) {
    java.util.LinkedHashSet<String> all = new java.util.LinkedHashSet<>(first);
    all.addAll(second);
    return List.copyOf(all);
  }

  /**
   * The lowest of the segments' stored checkpoints, in one query; START while one is not created
   * yet (its worker has not run: nothing of its segment is handled).
   */
  Position lowestCheckpoint(String name, int segments) {
    String[] names = new String[segments];
    for (int index = 0; index < segments; index++) {
      names[index] = SubscriptionOptions.checkpointName(name, index);
    }
    return Jdbc.withConnection(
        dataSource,
        "read segment checkpoints",
        c -> {
          List<Position> lowest =
              Jdbc.query(
                  c,
                  """
                  SELECT s.transaction_id::text AS tx, s.event_id, count(*) OVER ()
                    FROM %s.subscriptions s WHERE s.name = ANY(?)
                   ORDER BY s.transaction_id, s.event_id LIMIT 1
                  """
                      .formatted(schema),
                  s -> s.setArray(1, c.createArrayOf("text", names)),
                  row ->
                      row.getInt(3) < segments
                          ? Position.START
                          : Position.of(row.getString(1), row.getLong(2)));
          return lowest.isEmpty() ? Position.START : lowest.get(0);
        });
  }

  /**
   * Records that {@code node} runs the partitioned subscription {@code name} now, forgets members
   * silent for long, and returns the live ones (heard from within {@code liveWithin}) in a stable
   * order, the same on every node.
   */
  List<String> heartbeat(String name, String node, int segments, java.time.Duration liveWithin)
      throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      Jdbc.update(
          c,
          """
          INSERT INTO %s.subscription_members (subscription, node, segments)
          VALUES (?, ?, ?)
          ON CONFLICT (subscription, node) DO UPDATE SET heartbeat_at = now(), segments = ?
          """
              .formatted(schema),
          s -> {
            s.setString(1, name);
            s.setString(2, node);
            s.setInt(3, segments);
            s.setInt(4, segments);
          });
      Jdbc.update(
          c,
          "DELETE FROM %s.subscription_members WHERE subscription = ? AND heartbeat_at < now() - interval '10 minutes'"
              .formatted(schema),
          s -> s.setString(1, name));
      return liveMembers(c, name, liveWithin).stream().map(SubscriptionMember::node).toList();
    }
  }

  /** The members heard from within {@code liveWithin}, by node id: the same order on every node. */
  List<SubscriptionMember> liveMembers(Connection c, String name, java.time.Duration liveWithin)
      throws SQLException {
    return Jdbc.query(
        c,
        """
        SELECT node, heartbeat_at FROM %s.subscription_members
         WHERE subscription = ? AND heartbeat_at > now() - ? * interval '1 millisecond'
         ORDER BY node
        """
            .formatted(schema),
        s -> {
          s.setString(1, name);
          s.setLong(2, liveWithin.toMillis());
        },
        row -> new SubscriptionMember(row.getString(1), instant(row, 2)));
  }

  /** A node that stops leaves at once, so the others need not wait for its heartbeat to age. */
  void leave(String name, String node) {
    Jdbc.withConnection(
        dataSource,
        "leave subscription",
        c ->
            Jdbc.update(
                c,
                "DELETE FROM %s.subscription_members WHERE subscription = ? AND node = ?"
                    .formatted(schema),
                s -> {
                  s.setString(1, name);
                  s.setString(2, node);
                }));
  }

  Optional<Position> checkpoint(Connection c, String name) throws SQLException {
    try (PreparedStatement select =
        c.prepareStatement(
            "SELECT transaction_id::text AS tx, event_id FROM %s.subscriptions WHERE name = ?"
                .formatted(schema))) {
      select.setString(1, name);
      try (ResultSet row = select.executeQuery()) {
        return row.next()
            ? Optional.of(Position.of(row.getString(1), row.getLong(2)))
            : Optional.empty();
      }
    }
  }

  /**
   * Moves the checkpoint from {@code expected} to {@code next}; false if it is no longer at {@code
   * expected}, i.e. another process moved it, in which case the caller must roll back. Its commit
   * need not wait for the disk (losing it in a crash only means handling events again); the setting
   * is the transaction's, so auto-committed it is one round trip.
   */
  boolean advance(
      Connection c, String name, String owner, Position expected, Position next, int handled)
      throws SQLException {
    try (PreparedStatement update = c.prepareStatement(advanceSql)) {
      bindAdvance(update, 1, name, owner, expected, next, handled);
      return update.executeUpdate() == 1;
    }
  }

  /**
   * {@link #advance} and the COMMIT of {@code c}'s transaction in one round trip: the transaction
   * holds its id, and so every global reader, one round trip less. False, with the transaction
   * failed (the caller rolls back), if the checkpoint moved.
   */
  boolean advanceAndCommit(
      Connection c,
      SqlWrites writes,
      String name,
      String owner,
      Position expected,
      Position next,
      int handled)
      throws SQLException {
    try (PreparedStatement update = c.prepareStatement(after(writes, advanceAndCommitSql))) {
      int first = writes.bind(update, 1);
      bindAdvance(update, first, name, owner, expected, next, handled);
      update.setString(first + 7, name);
      return executeUnlessMoved(update);
    }
  }

  /** {@code sql} after {@code writes}' statements, to send them in one round trip. */
  private static String after(SqlWrites writes, String sql) {
    return writes.isEmpty() ? sql : writes.sql() + ";\n" + sql;
  }

  /** Runs a compare-and-set that fails with {@code checkpoint_moved()}: false if it did. */
  private static boolean executeUnlessMoved(PreparedStatement update) throws SQLException {
    try {
      update.execute();
      return true;
    } catch (SQLException e) {
      if (CHECKPOINT_MOVED.equals(e.getSQLState())) {
        return false;
      }
      throw e;
    }
  }

  /** A segment's checkpoint moved by {@link #advanceAll}: from where it is stored, to where. */
  record Move(String name, Position from, Position to, int handled) {}

  /**
   * Moves several checkpoints by compare-and-set in one statement, and with {@code commit} commits
   * {@code c}'s transaction in the same round trip. False (the transaction failed: the caller rolls
   * back) if any of them is no longer where the move expects it: none of them moves then.
   */
  boolean advanceAll(Connection c, String owner, List<Move> moves, boolean commit)
      throws SQLException {
    return advanceAll(c, SqlWrites.none(), owner, moves, commit);
  }

  /** {@link #advanceAll}, with {@code writes} run first in the same round trip. */
  boolean advanceAll(Connection c, SqlWrites writes, String owner, List<Move> moves, boolean commit)
      throws SQLException {
    int count = moves.size();
    String[] names = new String[count];
    String[] fromTx = new String[count];
    Long[] fromId = new Long[count];
    String[] toTx = new String[count];
    Long[] toId = new Long[count];
    Integer[] handled = new Integer[count];
    for (int i = 0; i < count; i++) {
      Move move = moves.get(i);
      names[i] = move.name();
      fromTx[i] = move.from().transactionIdText();
      fromId[i] = move.from().eventId();
      toTx[i] = move.to().transactionIdText();
      toId[i] = move.to().eventId();
      handled[i] = move.handled();
    }
    try (PreparedStatement update =
        c.prepareStatement(after(writes, commit ? advanceAllSql + ";\nCOMMIT" : advanceAllSql))) {
      int first = writes.bind(update, 1);
      update.setString(first, owner);
      update.setArray(first + 1, c.createArrayOf("text", names));
      update.setArray(first + 2, c.createArrayOf("text", fromTx));
      update.setArray(first + 3, c.createArrayOf("bigint", fromId));
      update.setArray(first + 4, c.createArrayOf("text", toTx));
      update.setArray(first + 5, c.createArrayOf("bigint", toId));
      update.setArray(first + 6, c.createArrayOf("integer", handled));
      update.setInt(first + 7, count);
      update.setString(first + 8, names[0]);
      return executeUnlessMoved(update);
    }
  }

  /** Binds {@link #ADVANCE}'s seven parameters from {@code first}. */
  private static void bindAdvance(
      PreparedStatement update,
      int first,
      String name,
      String owner,
      Position expected,
      Position next,
      int handled)
      throws SQLException {
    update.setString(first, next.transactionIdText());
    update.setLong(first + 1, next.eventId());
    update.setString(first + 2, owner);
    update.setInt(first + 3, handled);
    update.setString(first + 4, name);
    update.setString(first + 5, expected.transactionIdText());
    update.setLong(first + 6, expected.eventId());
  }

  /** Sets the checkpoint unconditionally (rebuilds, replays); the subscription must be stopped. */
  void reset(Connection c, String name, Position position) throws SQLException {
    try (PreparedStatement upsert =
        c.prepareStatement(
            """
            INSERT INTO %s.subscriptions (name, transaction_id, event_id) VALUES (?, ?::text::xid8, ?)
            ON CONFLICT (name) DO UPDATE
               SET transaction_id = excluded.transaction_id, event_id = excluded.event_id,
                   updated_at = now()
            """
                .formatted(schema))) {
      upsert.setString(1, name);
      upsert.setString(2, position.transactionIdText());
      upsert.setLong(3, position.eventId());
      upsert.executeUpdate();
    }
    // The replay delivers these events again: retrying their old failures would apply them twice.
    try (PreparedStatement supersede =
        c.prepareStatement(
            """
            UPDATE %s.processing_failures SET status = ?, resolved_at = now()
             WHERE subscription = ? AND status = ?
               AND (transaction_id, event_id) > (?::text::xid8, ?)
            """
                .formatted(schema))) {
      supersede.setString(1, ParkedFailure.SUPERSEDED);
      supersede.setString(2, name);
      supersede.setString(3, ParkedFailure.OPEN);
      supersede.setString(4, position.transactionIdText());
      supersede.setLong(5, position.eventId());
      supersede.executeUpdate();
    }
  }

  void markState(String name, String owner, SubscriptionState state, String error) {
    Jdbc.withConnection(
        dataSource,
        "mark subscription " + name,
        c -> {
          try (PreparedStatement update =
              c.prepareStatement(
                  """
                  UPDATE %s.subscriptions
                     SET status = ?, owner = ?, last_error = coalesce(?, last_error),
                         updated_at = now()
                   WHERE name = ?
                  """
                      .formatted(schema))) {
            update.setString(1, state.storedName());
            update.setString(2, owner);
            update.setString(3, error);
            update.setString(4, name);
            return update.executeUpdate();
          }
        });
  }

  void park(Connection c, String name, RecordedEvent event, Throwable error, int attempts)
      throws SQLException {
    StringWriter stack = new StringWriter();
    error.printStackTrace(new PrintWriter(stack));
    try (PreparedStatement insert =
        c.prepareStatement(
            """
            INSERT INTO %s.processing_failures
                (subscription, transaction_id, event_id, event_uuid, stream_id, event_type,
                 error_message, error_stack, attempts, first_failed_at, last_failed_at)
            VALUES (?, ?::text::xid8, ?, ?, ?, ?, ?, ?, ?, now(), now())
            ON CONFLICT (subscription, event_uuid) DO UPDATE
               SET attempts = processing_failures.attempts + excluded.attempts,
                   error_message = excluded.error_message, error_stack = excluded.error_stack,
                   last_failed_at = now(), status = 'open', resolved_at = NULL
            """
                .formatted(schema))) {
      insert.setString(1, name);
      insert.setString(2, event.position().transactionIdText());
      insert.setLong(3, event.position().eventId());
      insert.setObject(4, event.eventId());
      insert.setString(5, event.streamId());
      insert.setString(6, event.type());
      insert.setString(7, String.valueOf(error.getMessage() == null ? error : error.getMessage()));
      insert.setString(8, stack.toString());
      insert.setInt(9, attempts);
      insert.executeUpdate();
    }
  }

  List<ParkedFailure> failures(String status, int limit) {
    String where = status == null ? "" : "WHERE status = ?";
    return Jdbc.withConnection(
        dataSource,
        "list failures",
        c -> {
          try (PreparedStatement select =
              c.prepareStatement(
                  "SELECT %s FROM %s.processing_failures %s ORDER BY id DESC LIMIT ?"
                      .formatted(FAILURE_COLUMNS, schema, where))) {
            int p = 1;
            if (status != null) {
              select.setString(p++, status);
            }
            select.setInt(p, limit);
            List<ParkedFailure> failures = new ArrayList<>();
            try (ResultSet rows = select.executeQuery()) {
              while (rows.next()) {
                failures.add(failure(rows));
              }
            }
            return failures;
          }
        });
  }

  Optional<ParkedFailure> failure(Connection c, long id, boolean lock) throws SQLException {
    try (PreparedStatement select =
        c.prepareStatement(
            "SELECT %s FROM %s.processing_failures WHERE id = ? %s"
                .formatted(FAILURE_COLUMNS, schema, lock ? "FOR UPDATE" : ""))) {
      select.setLong(1, id);
      try (ResultSet row = select.executeQuery()) {
        return row.next() ? Optional.of(failure(row)) : Optional.empty();
      }
    }
  }

  /**
   * Locks an open failure for the rest of the caller's transaction, so that only one retry or
   * resolve settles it; refuses one that does not exist or is settled already.
   */
  ParkedFailure lockOpenFailure(Connection c, long id) throws SQLException {
    ParkedFailure failure =
        failure(c, id, true).orElseThrow(() -> new UnknownFailureException(id, "does not exist"));
    if (!ParkedFailure.OPEN.equals(failure.status())) {
      throw new FailureAlreadySettledException(id, failure.status());
    }
    return failure;
  }

  /** The event a failure parked. */
  RecordedEvent event(Connection c, ParkedFailure failure) throws SQLException {
    try (PreparedStatement select =
        c.prepareStatement(
            "SELECT %s FROM %s.events WHERE id = ?".formatted(EventRows.COLUMNS, schema))) {
      select.setLong(1, failure.position().eventId());
      try (ResultSet row = select.executeQuery()) {
        if (!row.next()) {
          throw new UnknownFailureException(failure.id(), "refers to a missing event");
        }
        return EventRows.map(row);
      }
    }
  }

  void settleFailure(Connection c, long id, String status) throws SQLException {
    try (PreparedStatement update =
        c.prepareStatement(
            "UPDATE %s.processing_failures SET status = ?, resolved_at = now() WHERE id = ?"
                .formatted(schema))) {
      update.setString(1, status);
      update.setLong(2, id);
      update.executeUpdate();
    }
  }

  void recordFailedRetry(Connection c, long id, Throwable error) throws SQLException {
    try (PreparedStatement update =
        c.prepareStatement(
            """
            UPDATE %s.processing_failures
               SET attempts = attempts + 1, last_failed_at = now(), error_message = ?
             WHERE id = ?
            """
                .formatted(schema))) {
      update.setString(1, String.valueOf(error.getMessage() == null ? error : error.getMessage()));
      update.setLong(2, id);
      update.executeUpdate();
    }
  }

  private static final String FAILURE_COLUMNS =
      "id, subscription, transaction_id::text AS tx, event_id, event_uuid, stream_id, event_type,"
          + " error_message, error_stack, attempts, first_failed_at, last_failed_at, status";

  private static ParkedFailure failure(ResultSet row) throws SQLException {
    return new ParkedFailure(
        row.getLong(1),
        row.getString(2),
        Position.of(row.getString(3), row.getLong(4)),
        row.getObject(5, UUID.class),
        row.getString(6),
        row.getString(7),
        row.getString(8),
        row.getString(9),
        row.getInt(10),
        instant(row, 11),
        instant(row, 12),
        row.getString(13));
  }

  static Instant instant(ResultSet row, int column) throws SQLException {
    OffsetDateTime time = row.getObject(column, OffsetDateTime.class);
    return time == null ? null : time.toInstant();
  }
}
