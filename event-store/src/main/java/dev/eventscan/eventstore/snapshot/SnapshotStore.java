package dev.eventscan.eventstore.snapshot;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.serialization.EventSerializationException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Optional;

/** Snapshots in the {@code snapshots} table, as JSON written by Jackson. */
public final class SnapshotStore {
  private final EventStore store;
  private final ObjectMapper mapper;

  public SnapshotStore(EventStore store, ObjectMapper mapper) {
    this.store = store;
    this.mapper = mapper;
  }

  /**
   * The stream's snapshot if it exists in {@code schemaVersion}; one in another schema version is
   * treated as absent (the caller replays fully and its next snapshot replaces it).
   */
  public <S> Optional<Snapshot<S>> load(String streamId, Class<S> stateType, int schemaVersion) {
    return Jdbc.withConnection(
        store.dataSource(),
        "load snapshot",
        c -> {
          try (PreparedStatement select =
              c.prepareStatement(
                  "SELECT stream_version, schema_version, state::text FROM %s.snapshots WHERE stream_id = ?"
                      .formatted(store.schema()))) {
            select.setString(1, streamId);
            try (ResultSet row = select.executeQuery()) {
              if (!row.next() || row.getInt(2) != schemaVersion) {
                return Optional.empty();
              }
              return Optional.of(
                  new Snapshot<>(
                      streamId, row.getLong(1), schemaVersion, read(row.getString(3), stateType)));
            }
          }
        });
  }

  /** Stores a snapshot unless a newer one in the same schema version is already there. */
  public void save(Snapshot<?> snapshot) {
    String json;
    try {
      json = mapper.writeValueAsString(snapshot.state());
    } catch (JsonProcessingException e) {
      throw new EventSerializationException("snapshot state could not be written as JSON", e);
    }
    Jdbc.withConnection(
        store.dataSource(),
        "save snapshot",
        c -> {
          try (PreparedStatement upsert =
              c.prepareStatement(
                  """
                  INSERT INTO %s.snapshots (stream_id, stream_version, schema_version, state)
                  VALUES (?, ?, ?, ?::jsonb)
                  ON CONFLICT (stream_id) DO UPDATE
                     SET stream_version = excluded.stream_version,
                         schema_version = excluded.schema_version,
                         state = excluded.state, created_at = now()
                   WHERE snapshots.stream_version < excluded.stream_version
                      OR snapshots.schema_version <> excluded.schema_version
                  """
                      .formatted(store.schema()))) {
            upsert.setString(1, snapshot.streamId());
            upsert.setLong(2, snapshot.streamVersion());
            upsert.setInt(3, snapshot.schemaVersion());
            upsert.setString(4, json);
            return upsert.executeUpdate();
          }
        });
  }

  public void delete(String streamId) {
    Jdbc.withConnection(
        store.dataSource(),
        "delete snapshot",
        c -> {
          try (PreparedStatement delete =
              c.prepareStatement(
                  "DELETE FROM %s.snapshots WHERE stream_id = ?".formatted(store.schema()))) {
            delete.setString(1, streamId);
            return delete.executeUpdate();
          }
        });
  }

  private <S> S read(String json, Class<S> type) {
    try {
      return mapper.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new EventSerializationException("snapshot state could not be read as " + type, e);
    }
  }
}
