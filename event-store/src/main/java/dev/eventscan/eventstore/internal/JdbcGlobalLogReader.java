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
      List<RecordedEvent> events = readUnfiltered("read all", after, Direction.FORWARDS, maxCount);
      Position next = events.isEmpty() ? after : events.get(events.size() - 1).position();
      return new GlobalLogPage(events, next, events.size() < maxCount);
    }
    return Jdbc.withConnection(
        dataSource,
        "read all",
        c -> readFiltered(c, after, Direction.FORWARDS, filter, maxCount, FILTERED_SCAN_BUDGET));
  }

  /** Rows a filtered readAll walks past before it returns a short page, so it never runs long. */
  static final int FILTERED_SCAN_BUDGET = 20_000;

  private static final int MAX_WINDOW = 20_000;

  /** The window after the first for a small page, small enough to be planned as the index walk. */
  private static final int SELECTIVE_WINDOW = 100;

  /**
   * A filtered page, read as unfiltered windows of the global-order index with the filter applied
   * to each row: the plan is then the index walk whatever the statistics say. With the filter in
   * the WHERE clause, a database not analyzed yet was planned as a scan of every event after the
   * position plus a sort (PostgreSQL guesses that a category keeps 0.5% of the events).
   *
   * <p>The reader learns how far it has looked, so its checkpoint (and lag) moves past events it
   * does not want: a window that comes back short reached the end, and a reader whose filter is
   * rare gets a short page, not the end of the log, after {@code budget} rows.
   */
  private GlobalLogPage readFiltered(
      Connection c,
      Position from,
      Direction direction,
      EventFilter filter,
      int maxCount,
      long budget)
      throws SQLException {
    String sql = windowSql(schema, filter, direction);
    List<RecordedEvent> events = new ArrayList<>(Math.min(maxCount, 1000));
    Position cursor = from;
    int window = Math.min(maxCount, MAX_WINDOW);
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
      if (scanned >= budget) {
        return new GlobalLogPage(events, cursor, false);
      }
      // The filter is selective: windows of at least SELECTIVE_WINDOW rows, never grown further.
      // Without statistics PostgreSQL guesses that a third of a table lies after any position, and
      // a LIMIT near that guess is planned as that third sorted, unfiltered windows included.
      window = Math.max(window, SELECTIVE_WINDOW);
    }
  }

  private enum Direction {
    FORWARDS(">", "ASC"),
    BACKWARDS("<", "DESC");

    final String comparison;
    final String order;

    Direction(String comparison, String order) {
      this.comparison = comparison;
      this.order = order;
    }
  }

  /** The column after {@link EventRows#COLUMNS} in a window: whether the filter wants the row. */
  private static final int WANTED_COLUMN = 10;

  /**
   * One window of a filtered read: the next rows in the direction's order, each with whether the
   * filter wants it; data and metadata only for those it wants. Parameters: the filter's, the
   * position, the window's size.
   */
  private static String windowSql(String schema, EventFilter filter, Direction direction) {
    return """
        SELECT id, transaction_id_text, event_id, stream_id, stream_version, type,
               CASE WHEN wanted THEN data::text END, CASE WHEN wanted THEN metadata::text END,
               recorded_at, wanted
          FROM (SELECT id, transaction_id, transaction_id::text AS transaction_id_text, event_id,
                       stream_id, stream_version, type, data, metadata, recorded_at,
                       %3$s AS wanted
                  FROM %1$s.events
                 WHERE (transaction_id, id) %4$s (?::text::xid8, ?)
                   AND transaction_id < %2$s
                 ORDER BY transaction_id %5$s, id %5$s
                 LIMIT ?) AS scanned
         ORDER BY transaction_id %5$s, id %5$s
        """
        .formatted(
            schema,
            BARRIER,
            String.join(" AND ", filterConditions(filter)),
            direction.comparison,
            direction.order);
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
    return readBackwards(Position.END, filter, maxCount);
  }

  @Override
  public List<RecordedEvent> readBackwards(Position before, EventFilter filter, int maxCount) {
    if (before == null || filter == null || maxCount <= 0) {
      throw new InvalidInputException(
          "readBackwards needs a position (Position.END for the newest), a filter and a positive"
              + " maxCount");
    }
    if (!filter.equals(EventFilter.all())) {
      // Backwards reads fill their page (callers take a short one for the log's start).
      return Jdbc.withConnection(
          dataSource,
          "read backwards",
          c ->
              readFiltered(c, before, Direction.BACKWARDS, filter, maxCount, Long.MAX_VALUE)
                  .events());
    }
    return readUnfiltered("read backwards", before, Direction.BACKWARDS, maxCount);
  }

  /** The next {@code maxCount} events from {@code from} in the direction's order. */
  private List<RecordedEvent> readUnfiltered(
      String what, Position from, Direction direction, int maxCount) {
    String sql =
        """
        SELECT %1$s FROM %2$s.events
         WHERE (transaction_id, id) %3$s (?::text::xid8, ?)
           AND transaction_id < %4$s
         ORDER BY transaction_id %5$s, id %5$s
         LIMIT ?
        """
            .formatted(EventRows.COLUMNS, schema, direction.comparison, BARRIER, direction.order);
    return Jdbc.withConnection(
        dataSource,
        what,
        c -> {
          try (PreparedStatement statement = c.prepareStatement(sql)) {
            statement.setString(1, from.transactionIdText());
            statement.setLong(2, from.eventId());
            statement.setInt(3, maxCount);
            return events(statement, maxCount);
          }
        });
  }

  private static List<RecordedEvent> events(PreparedStatement statement, int maxCount)
      throws SQLException {
    try (ResultSet rows = statement.executeQuery()) {
      List<RecordedEvent> events = new ArrayList<>(Math.min(maxCount, 1000));
      while (rows.next()) {
        events.add(EventRows.map(rows));
      }
      return events;
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
