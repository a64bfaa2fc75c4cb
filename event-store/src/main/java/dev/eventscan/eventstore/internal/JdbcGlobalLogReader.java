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
    // A filtered reader that found everything there is also learns how far it has looked: the
    // head below the barrier, read by the same statement (so in the same snapshot). Nothing it
    // wants can appear before that any more, so its checkpoint (and lag) can move past events it
    // does not want. One statement, not a transaction: a subscription reads at every wake-up.
    String withHead =
        """
        SELECT page.*, head.transaction_id::text, head.id
          FROM (SELECT 1) AS one
          LEFT JOIN (SELECT %1$s, transaction_id AS in_order FROM %2$s.events
                      WHERE (transaction_id, id) > (?::text::xid8, ?)
                        AND transaction_id < %3$s
                        %4$s
                      ORDER BY transaction_id, id
                      LIMIT ?) AS page ON true
          LEFT JOIN (SELECT transaction_id, id FROM %2$s.events
                      WHERE transaction_id < %3$s
                      ORDER BY transaction_id DESC, id DESC
                      LIMIT 1) AS head ON true
         ORDER BY page.in_order, page.id
        """
            .formatted(EventRows.COLUMNS, schema, BARRIER, filterSql(filter));
    return Jdbc.withConnection(
        dataSource,
        "read all",
        c -> {
          try (PreparedStatement statement = c.prepareStatement(withHead)) {
            statement.setString(1, after.transactionIdText());
            statement.setLong(2, after.eventId());
            statement.setInt(bindFilter(c, statement, 3, filter), maxCount);
            try (ResultSet rows = statement.executeQuery()) {
              List<RecordedEvent> events = new ArrayList<>(Math.min(maxCount, 1000));
              Position head = Position.START;
              int headColumn = rows.getMetaData().getColumnCount() - 1;
              while (rows.next()) {
                if (rows.getObject(1) != null) {
                  events.add(EventRows.map(rows));
                }
                if (rows.getString(headColumn) != null) {
                  head = Position.of(rows.getString(headColumn), rows.getLong(headColumn + 1));
                }
              }
              Position next = events.isEmpty() ? after : events.get(events.size() - 1).position();
              boolean endOfLog = events.size() < maxCount;
              if (endOfLog && head.compareTo(next) > 0) {
                next = head;
              }
              return new GlobalLogPage(events, next, endOfLog);
            }
          }
        });
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

  private static String filterSql(EventFilter filter) {
    return (filter.types().isEmpty() ? "" : "AND type = ANY(?) ")
        + (filter.categories().isEmpty() ? "" : "AND category = ANY(?) ")
        + (filter.segment() == null ? "" : "AND " + StreamSegment.SQL_HASH + " % ? = ?");
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
