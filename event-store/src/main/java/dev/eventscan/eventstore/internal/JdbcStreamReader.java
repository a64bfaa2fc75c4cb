package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.InvalidInputException;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.stream.ReadDirection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamDeletedException;
import dev.eventscan.eventstore.stream.StreamIds;
import dev.eventscan.eventstore.stream.StreamInfo;
import dev.eventscan.eventstore.stream.StreamQuery;
import dev.eventscan.eventstore.stream.StreamReader;
import dev.eventscan.eventstore.stream.StreamSlice;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

final class JdbcStreamReader implements StreamReader {
  private final DataSource dataSource;
  private final String schema;
  private final String streamInfoSql;
  private final String readForwardsSql;
  private final String readBackwardsSql;

  JdbcStreamReader(DataSource dataSource, String schema) {
    this.dataSource = dataSource;
    this.schema = schema;
    this.streamInfoSql =
        """
        SELECT last.stream_version, s.created_at, last.recorded_at, s.deleted_at
          FROM %1$s.streams s
          CROSS JOIN LATERAL (
                SELECT e.stream_version, e.recorded_at FROM %1$s.events e
                 WHERE e.stream_id = s.stream_id
                 ORDER BY e.stream_version DESC
                 LIMIT 1) last
         WHERE s.stream_id = ?
        """
            .formatted(schema);
    this.readForwardsSql =
        """
        SELECT %s FROM %s.events
         WHERE stream_id = ? AND stream_version >= ?
         ORDER BY stream_version
         LIMIT ?
        """
            .formatted(EventRows.COLUMNS, schema);
    this.readBackwardsSql =
        """
        SELECT %s FROM %s.events
         WHERE stream_id = ? AND stream_version <= ?
         ORDER BY stream_version DESC
         LIMIT ?
        """
            .formatted(EventRows.COLUMNS, schema);
  }

  @Override
  public StreamSlice readStream(
      String streamId, long fromVersion, int maxCount, ReadDirection direction) {
    StreamIds.requireValid(streamId);
    if (maxCount <= 0) {
      throw new InvalidInputException("maxCount must be positive, got " + maxCount);
    }
    if (fromVersion < 0) {
      throw new InvalidInputException("fromVersion must not be negative, got " + fromVersion);
    }
    if (direction == null) {
      throw new InvalidInputException("direction must not be null");
    }
    return Jdbc.withConnection(
        dataSource,
        "read stream " + streamId,
        c -> {
          Optional<StreamInfo> info = streamInfo(c, streamId);
          if (info.isEmpty()) {
            return new StreamSlice(streamId, List.of(), 0, true);
          }
          if (info.get().deleted()) {
            throw new StreamDeletedException(streamId);
          }
          List<RecordedEvent> events = readEvents(c, streamId, fromVersion, maxCount, direction);
          long version = info.get().version();
          if (!events.isEmpty()) {
            version = Math.max(version, events.get(events.size() - 1).streamVersion());
          }
          boolean end =
              events.size() < maxCount
                  || (direction == ReadDirection.FORWARDS
                      ? events.get(events.size() - 1).streamVersion() >= version
                      : events.get(events.size() - 1).streamVersion() <= 1);
          return new StreamSlice(streamId, List.copyOf(events), version, end);
        });
  }

  private List<RecordedEvent> readEvents(
      Connection c, String streamId, long fromVersion, int maxCount, ReadDirection direction)
      throws SQLException {
    String sql = direction == ReadDirection.FORWARDS ? readForwardsSql : readBackwardsSql;
    try (PreparedStatement statement = c.prepareStatement(sql)) {
      statement.setString(1, streamId);
      statement.setLong(2, fromVersion);
      statement.setInt(3, maxCount);
      try (ResultSet rows = statement.executeQuery()) {
        List<RecordedEvent> events = new ArrayList<>();
        while (rows.next()) {
          events.add(EventRows.map(rows));
        }
        return events;
      }
    }
  }

  @Override
  public List<StreamInfo> listStreams(StreamQuery query) {
    if (query == null) {
      throw new InvalidInputException("query must not be null (use StreamQuery.newestFirst(n))");
    }
    // The prefix is matched with starts_with, not LIKE: '%' and '_' in it mean themselves.
    String sql =
        """
        SELECT s.stream_id, last.stream_version, s.created_at, last.recorded_at, s.deleted_at
          FROM %1$s.streams s
          CROSS JOIN LATERAL (
                SELECT e.stream_version, e.recorded_at FROM %1$s.events e
                 WHERE e.stream_id = s.stream_id
                 ORDER BY e.stream_version DESC
                 LIMIT 1) last
         WHERE true %2$s %3$s %4$s
         ORDER BY s.created_at DESC, s.stream_id DESC
         LIMIT ?
        """
            .formatted(
                schema,
                query.idPrefix().isPresent() ? "AND starts_with(s.stream_id, ?)" : "",
                query.category().isPresent() ? "AND s.category = ?" : "",
                query.after().isPresent() ? "AND (s.created_at, s.stream_id) < (?, ?)" : "");
    return Jdbc.withConnection(
        dataSource,
        "list streams",
        c -> {
          try (PreparedStatement statement = c.prepareStatement(sql)) {
            int parameter = 1;
            if (query.idPrefix().isPresent()) {
              statement.setString(parameter++, query.idPrefix().get());
            }
            if (query.category().isPresent()) {
              statement.setString(parameter++, query.category().get());
            }
            if (query.after().isPresent()) {
              StreamQuery.Cursor after = query.after().get();
              statement.setObject(
                  parameter++, OffsetDateTime.ofInstant(after.createdAt(), ZoneOffset.UTC));
              statement.setString(parameter++, after.streamId());
            }
            statement.setInt(parameter, query.maxCount());
            try (ResultSet rows = statement.executeQuery()) {
              List<StreamInfo> streams = new ArrayList<>();
              while (rows.next()) {
                streams.add(streamInfo(rows.getString(1), rows, 2));
              }
              return streams;
            }
          }
        });
  }

  @Override
  public Optional<StreamInfo> streamInfo(String streamId) {
    StreamIds.requireValid(streamId);
    return Jdbc.withConnection(dataSource, "stream info " + streamId, c -> streamInfo(c, streamId));
  }

  private Optional<StreamInfo> streamInfo(Connection c, String streamId) throws SQLException {
    try (PreparedStatement statement = c.prepareStatement(streamInfoSql)) {
      statement.setString(1, streamId);
      try (ResultSet row = statement.executeQuery()) {
        return row.next() ? Optional.of(streamInfo(streamId, row, 1)) : Optional.empty();
      }
    }
  }

  /** Maps (version, created at, last recorded at, deleted at) starting at column {@code first}. */
  private static StreamInfo streamInfo(String streamId, ResultSet row, int first)
      throws SQLException {
    OffsetDateTime deletedAt = row.getObject(first + 3, OffsetDateTime.class);
    // A deleted stream's last event is its tombstone, which is not one of its events.
    long version = row.getLong(first) - (deletedAt == null ? 0 : 1);
    return new StreamInfo(
        streamId,
        version,
        row.getObject(first + 1, OffsetDateTime.class).toInstant(),
        row.getObject(first + 2, OffsetDateTime.class).toInstant(),
        Optional.ofNullable(deletedAt).map(OffsetDateTime::toInstant));
  }
}
