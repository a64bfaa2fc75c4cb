package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.InvalidInputException;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.AppendResult;
import dev.eventscan.eventstore.stream.DuplicateEventIdException;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.MetadataJson;
import dev.eventscan.eventstore.stream.StreamAppend;
import dev.eventscan.eventstore.stream.StreamDeletedException;
import dev.eventscan.eventstore.stream.StreamIds;
import dev.eventscan.eventstore.stream.StreamNotFoundException;
import dev.eventscan.eventstore.stream.StreamWriter;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.util.PSQLException;

/** Appends through the {@code append_to_stream} function: one round trip per stream. */
final class JdbcStreamWriter implements StreamWriter {
  private static final Pattern KEY_UUID =
      Pattern.compile("\\(event_id\\)=\\(([0-9a-fA-F-]{36})\\)");

  private final DataSource dataSource;
  private final AppendValidator validator;
  private final String appendSql;
  private final String lockStreamSql;
  private final String deleteStreamSql;

  JdbcStreamWriter(DataSource dataSource, String schema, AppendValidator validator) {
    this.dataSource = dataSource;
    this.validator = validator;
    this.appendSql =
        """
        SELECT stream_version, transaction_id, last_id
          FROM %s.append_to_stream(?, ?, ?, ?, ?, ?)
        """
            .formatted(schema);
    this.lockStreamSql =
        """
        SELECT version, deleted_at IS NOT NULL FROM %s.streams WHERE stream_id = ? FOR UPDATE
        """
            .formatted(schema);
    this.deleteStreamSql =
        """
        UPDATE %s.streams SET deleted_at = now(), updated_at = now() WHERE stream_id = ?
        """
            .formatted(schema);
  }

  @Override
  public AppendResult append(String streamId, ExpectedVersion expected, List<EventData> events) {
    validator.validate(streamId, expected, events);
    // Auto-commit: the function call is the whole transaction, one round trip.
    return Jdbc.withConnection(
        dataSource, "append to " + streamId, c -> append(c, streamId, expected, events));
  }

  @Override
  public List<AppendResult> appendAtomically(List<StreamAppend> appends) {
    if (appends == null || appends.isEmpty()) {
      throw new InvalidInputException("an atomic append needs at least one stream");
    }
    Set<String> streamIds = new HashSet<>();
    for (StreamAppend part : appends) {
      if (part == null) {
        throw new InvalidInputException("an atomic append must not contain null");
      }
      validator.validate(part.streamId(), part.expectedVersion(), part.events());
      if (!streamIds.add(part.streamId())) {
        throw new InvalidInputException(
            "stream '"
                + part.streamId()
                + "' appears twice in one atomic append; merge its events");
      }
    }
    Integer[] lockOrder = new Integer[appends.size()];
    Arrays.setAll(lockOrder, i -> i);
    Arrays.sort(lockOrder, Comparator.comparing(i -> appends.get(i).streamId()));
    return Jdbc.inTransaction(
        dataSource,
        "atomic append",
        c -> {
          AppendResult[] results = new AppendResult[appends.size()];
          for (int i : lockOrder) {
            StreamAppend part = appends.get(i);
            results[i] = append(c, part.streamId(), part.expectedVersion(), part.events());
          }
          return List.of(results);
        });
  }

  private AppendResult append(
      Connection connection, String streamId, ExpectedVersion expected, List<EventData> events)
      throws SQLException {
    int size = events.size();
    UUID[] ids = new UUID[size];
    String[] types = new String[size];
    String[] data = new String[size];
    String[] metadata = new String[size];
    for (int i = 0; i < size; i++) {
      EventData event = events.get(i);
      ids[i] = event.eventId();
      types[i] = event.type();
      data[i] = event.data();
      metadata[i] = MetadataJson.write(event.metadata());
    }
    try (PreparedStatement statement = connection.prepareStatement(appendSql)) {
      statement.setString(1, streamId);
      statement.setLong(2, encode(expected));
      statement.setArray(3, connection.createArrayOf("uuid", ids));
      statement.setArray(4, connection.createArrayOf("text", types));
      statement.setArray(5, connection.createArrayOf("text", data));
      statement.setArray(6, connection.createArrayOf("text", metadata));
      try (ResultSet row = statement.executeQuery()) {
        row.next();
        return new AppendResult(
            streamId,
            row.getLong(1),
            new Position(Long.parseLong(row.getString(2)), row.getLong(3)));
      }
    } catch (SQLException e) {
      throw translate(e, streamId, expected);
    }
  }

  /** The function's encoding of an expectation: a version, or a negative mode. */
  private static long encode(ExpectedVersion expected) {
    if (expected instanceof ExpectedVersion.Exactly exactly) {
      return exactly.version();
    } else if (expected instanceof ExpectedVersion.Any) {
      return -1;
    } else if (expected instanceof ExpectedVersion.NoStream) {
      return -2;
    } else {
      return -3;
    }
  }

  private static RuntimeException translate(
      SQLException e, String streamId, ExpectedVersion expected) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String detail = detail(e);
    switch (state) {
      case "ES409":
        return new WrongExpectedVersionException(streamId, expected, Long.parseLong(detail));
      case "ES410":
        return new StreamDeletedException(streamId);
      case "ES411":
        return new DuplicateEventIdException(streamId, UUID.fromString(detail));
      case "23505":
        Matcher key = KEY_UUID.matcher(detail == null ? "" : detail);
        return new DuplicateEventIdException(
            streamId, key.find() ? UUID.fromString(key.group(1)) : null);
      case "22P02", "22P05", "22032", "22025", "2200N", "22030", "22031", "22033", "22034":
        return new InvalidInputException(
            "stream '"
                + streamId
                + "': event data or metadata is not valid JSON: "
                + e.getMessage(),
            e);
      default:
        return Jdbc.storageFailure("append to " + streamId, e);
    }
  }

  private static String detail(SQLException e) {
    if (e instanceof PSQLException psql && psql.getServerErrorMessage() != null) {
      return psql.getServerErrorMessage().getDetail();
    }
    return null;
  }

  @Override
  public void deleteStream(String streamId, ExpectedVersion expected) {
    StreamIds.requireValid(streamId);
    if (expected == null) {
      throw new InvalidInputException("expected version must not be null");
    }
    Jdbc.inTransaction(
        dataSource,
        "delete " + streamId,
        c -> {
          try (PreparedStatement lock = c.prepareStatement(lockStreamSql)) {
            lock.setString(1, streamId);
            try (ResultSet row = lock.executeQuery()) {
              if (!row.next()) {
                throw new StreamNotFoundException(streamId);
              }
              if (row.getBoolean(2)) {
                throw new StreamDeletedException(streamId);
              }
              long version = row.getLong(1);
              if (!expected.matches(version)) {
                throw new WrongExpectedVersionException(streamId, expected, version);
              }
            }
          }
          try (PreparedStatement delete = c.prepareStatement(deleteStreamSql)) {
            delete.setString(1, streamId);
            delete.executeUpdate();
          }
          return null;
        });
  }
}
