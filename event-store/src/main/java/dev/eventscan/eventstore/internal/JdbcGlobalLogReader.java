package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.InvalidInputException;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.global.GlobalLogReader;
import dev.eventscan.eventstore.global.StreamSegment;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Reads the global log below the transaction-id barrier: only rows of transactions older than the
 * oldest one still running, so no later reader can find an event before a position it passed.
 */
final class JdbcGlobalLogReader implements GlobalLogReader {
  private static final String BARRIER = Barrier.SQL;

  private final DataSource dataSource;
  private final String schema;
  private final String headSql;

  JdbcGlobalLogReader(DataSource dataSource, String schema) {
    this.dataSource = dataSource;
    this.schema = schema;
    this.headSql =
        """
        SELECT transaction_id::text AS transaction_id_text, id FROM %s.events
         WHERE transaction_id < %s
         ORDER BY transaction_id DESC, id DESC
         LIMIT 1
        """
            .formatted(schema, BARRIER);
  }

  @Override
  public GlobalLogPage readAll(Position after, EventFilter filter, int maxCount) {
    if (after == null) {
      throw new InvalidInputException("position must not be null (use Position.START)");
    }
    if (filter == null) {
      throw new InvalidInputException("filter must not be null (use EventFilter.all())");
    }
    if (maxCount <= 0) {
      throw new InvalidInputException("maxCount must be positive, got " + maxCount);
    }
    if (filter.equals(EventFilter.all())) {
      String sql =
          """
          SELECT %s FROM %s.events
           WHERE (transaction_id, id) > (?::text::xid8, ?)
             AND transaction_id < %s
           ORDER BY transaction_id, id
           LIMIT ?
          """
              .formatted(EventRows.COLUMNS, schema, BARRIER);
      List<RecordedEvent> events =
          query(
              "read all",
              sql,
              filter,
              maxCount,
              statement -> {
                statement.setString(1, after.transactionIdText());
                statement.setLong(2, after.eventId());
                return 3;
              });
      Position next = events.isEmpty() ? after : events.get(events.size() - 1).position();
      return new GlobalLogPage(events, next, events.size() < maxCount);
    }
    return Jdbc.withConnection(
        dataSource, "read all", c -> readFiltered(c, after, filter, maxCount));
  }

  /** Rows a filtered read walks past before it returns a short page, so that it never runs long. */
  static final int FILTERED_SCAN_BUDGET = 20_000;

  /**
   * A filtered page, read as unfiltered windows of the global-order index with the filter applied
   * to each row: the plan is then the index walk whatever the statistics say. With the filter in
   * the WHERE clause, a database not analyzed yet was planned as a scan of every event after the
   * position plus a sort (PostgreSQL guesses that a category keeps 0.5% of the events).
   *
   * <p>The reader learns how far it has looked, so its checkpoint (and lag) moves past events it
   * does not want: a window that comes back short reached the head below the barrier, and a reader
   * whose filter is rare gets a short page, not the end of the log, after {@link
   * #FILTERED_SCAN_BUDGET} rows.
   */
  private GlobalLogPage readFiltered(Connection c, Position after, EventFilter filter, int maxCount)
      throws SQLException {
    String sql = windowSql(schema, filter);
    List<RecordedEvent> events = new ArrayList<>(Math.min(maxCount, 1000));
    Position cursor = after;
    int window = Math.min(maxCount, FILTERED_SCAN_BUDGET);
    long scanned = 0;
    while (true) {
      int rowsInWindow = 0;
      try (PreparedStatement statement = c.prepareStatement(sql)) {
        int parameter = bindFilter(c, statement, 1, filter);
        statement.setString(parameter++, cursor.transactionIdText());
        statement.setLong(parameter++, cursor.eventId());
        statement.setInt(parameter, window);
        try (ResultSet rows = statement.executeQuery()) {
          while (rows.next()) {
            rowsInWindow++;
            cursor = Position.of(rows.getString(2), rows.getLong(1));
            if (rows.getBoolean(WANTED_COLUMN)) {
              events.add(EventRows.map(rows));
              if (events.size() == maxCount) {
                return new GlobalLogPage(events, cursor, false);
              }
            }
          }
        }
      }
      scanned += rowsInWindow;
      if (rowsInWindow < window) {
        return new GlobalLogPage(events, cursor, true);
      }
      if (scanned >= FILTERED_SCAN_BUDGET) {
        return new GlobalLogPage(events, cursor, false);
      }
      // The filter is selective: larger windows, fewer round trips.
      window = (int) Math.min(window * 4L, FILTERED_SCAN_BUDGET);
    }
  }

  /** The column after {@link EventRows#COLUMNS} in a window: whether the filter wants the row. */
  private static final int WANTED_COLUMN = 10;

  /**
   * One window of a filtered read: the next rows in global order, each with whether the filter
   * wants it; data and metadata only for those it wants. Parameters: the filter's, the position,
   * the window's size.
   */
  static String windowSql(String schema, EventFilter filter) {
    return """
        SELECT id, transaction_id_text, event_id, stream_id, stream_version, type,
               CASE WHEN wanted THEN data::text END, CASE WHEN wanted THEN metadata::text END,
               recorded_at, wanted
          FROM (SELECT id, transaction_id, transaction_id::text AS transaction_id_text, event_id,
                       stream_id, stream_version, type, data, metadata, recorded_at,
                       %3$s AS wanted
                  FROM %1$s.events
                 WHERE (transaction_id, id) > (?::text::xid8, ?)
                   AND transaction_id < %2$s
                 ORDER BY transaction_id, id
                 LIMIT ?) AS scanned
         ORDER BY transaction_id, id
        """
        .formatted(schema, BARRIER, String.join(" AND ", filterConditions(filter)));
  }

  @Override
  public Position headPosition(EventFilter filter) {
    List<RecordedEvent> latest = readLatest(filter, 1);
    return latest.isEmpty() ? Position.START : latest.get(0).position();
  }

  @Override
  public List<RecordedEvent> readLatest(EventFilter filter, int maxCount) {
    if (filter == null || maxCount <= 0) {
      throw new InvalidInputException("readLatest needs a filter and a positive maxCount");
    }
    String sql =
        """
        SELECT %s FROM %s.events
         WHERE transaction_id < %s
           %s
         ORDER BY transaction_id DESC, id DESC
         LIMIT ?
        """
            .formatted(EventRows.COLUMNS, schema, BARRIER, filterSql(filter));
    return query("read latest", sql, filter, maxCount, statement -> 1);
  }

  @Override
  public List<RecordedEvent> readBackwards(Position before, EventFilter filter, int maxCount) {
    if (before == null || filter == null || maxCount <= 0) {
      throw new InvalidInputException(
          "readBackwards needs a position (Position.END for the newest), a filter and a positive"
              + " maxCount");
    }
    if (before.equals(Position.END)) {
      return readLatest(filter, maxCount);
    }
    String sql =
        """
        SELECT %s FROM %s.events
         WHERE (transaction_id, id) < (?::text::xid8, ?)
           AND transaction_id < %s
           %s
         ORDER BY transaction_id DESC, id DESC
         LIMIT ?
        """
            .formatted(EventRows.COLUMNS, schema, BARRIER, filterSql(filter));
    return query(
        "read backwards",
        sql,
        filter,
        maxCount,
        statement -> {
          statement.setString(1, before.transactionIdText());
          statement.setLong(2, before.eventId());
          return 3;
        });
  }

  @FunctionalInterface
  private interface LeadingParameters {
    /** Binds the query's own first parameters; returns the index of the next one. */
    int bind(PreparedStatement statement) throws SQLException;
  }

  /** Runs an event query: leading parameters, then the filter's, then the row limit. */
  private List<RecordedEvent> query(
      String what, String sql, EventFilter filter, int maxCount, LeadingParameters leading) {
    return Jdbc.withConnection(dataSource, what, c -> query(c, sql, filter, maxCount, leading));
  }

  private static List<RecordedEvent> query(
      Connection c, String sql, EventFilter filter, int maxCount, LeadingParameters leading)
      throws SQLException {
    try (PreparedStatement statement = c.prepareStatement(sql)) {
      int parameter = bindFilter(c, statement, leading.bind(statement), filter);
      statement.setInt(parameter, maxCount);
      try (ResultSet rows = statement.executeQuery()) {
        List<RecordedEvent> events = new ArrayList<>(Math.min(maxCount, 1000));
        while (rows.next()) {
          events.add(EventRows.map(rows));
        }
        return events;
      }
    }
  }

  /** The filter's conditions in SQL, parameters bound by {@link #bindFilter} in this order. */
  private static List<String> filterConditions(EventFilter filter) {
    List<String> conditions = new ArrayList<>();
    if (!filter.types().isEmpty()) {
      conditions.add("type = ANY(?)");
    }
    if (!filter.categories().isEmpty()) {
      conditions.add("category = ANY(?)");
    }
    if (filter.segment() != null) {
      conditions.add(StreamSegment.SQL_HASH + " % ? = ?");
    }
    return conditions;
  }

  private static String filterSql(EventFilter filter) {
    StringBuilder sql = new StringBuilder();
    filterConditions(filter).forEach(condition -> sql.append("AND ").append(condition).append(' '));
    return sql.toString();
  }

  private static int bindFilter(
      java.sql.Connection c, PreparedStatement statement, int first, EventFilter filter)
      throws java.sql.SQLException {
    int parameter = first;
    if (!filter.types().isEmpty()) {
      statement.setArray(
          parameter++, c.createArrayOf("text", filter.types().toArray(String[]::new)));
    }
    if (!filter.categories().isEmpty()) {
      statement.setArray(
          parameter++, c.createArrayOf("text", filter.categories().toArray(String[]::new)));
    }
    if (filter.segment() != null) {
      statement.setInt(parameter++, filter.segment().count());
      statement.setInt(parameter++, filter.segment().index());
    }
    return parameter;
  }

  @Override
  public Position headPosition() {
    return Jdbc.withConnection(dataSource, "read head position", this::head);
  }

  private Position head(Connection c) throws SQLException {
    try (PreparedStatement statement = c.prepareStatement(headSql);
        ResultSet row = statement.executeQuery()) {
      return row.next() ? Position.of(row.getString(1), row.getLong(2)) : Position.START;
    }
  }

  @Override
  public Duration barrierAge() {
    String sql =
        """
        SELECT coalesce(extract(epoch FROM now() - min(xact_start)), 0)
          FROM pg_stat_activity
         WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
        """;
    return Jdbc.withConnection(
        dataSource,
        "read barrier age",
        c -> {
          try (PreparedStatement statement = c.prepareStatement(sql);
              ResultSet row = statement.executeQuery()) {
            row.next();
            return Duration.ofNanos((long) (row.getDouble(1) * 1_000_000_000L));
          }
        });
  }
}
