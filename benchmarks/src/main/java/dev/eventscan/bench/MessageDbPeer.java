package dev.eventscan.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.MetadataJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Message DB (the npm package {@code @eventide/message-db}) installed from its own SQL files into
 * the benchmark's database and called through its functions, as its clients do: {@code
 * write_message} (one message a call, under a per-category advisory lock), {@code
 * get_category_messages} and {@code get_stream_messages}.
 *
 * <p>{@code benchmarks/run} fetches the package with npm and passes its {@code database} folder as
 * {@code -Dbench.messagedb.dir}; without it the Message DB columns are left out.
 */
final class MessageDbPeer implements AutoCloseable {
  static final String DIRECTORY_PROPERTY = "bench.messagedb.dir";

  /** The order of the package's install.sh, install-functions.sh and install-indexes.sh. */
  private static final List<String> INSTALL_FILES =
      List.of(
          "schema/message-store.sql",
          "extensions/pgcrypto.sql",
          "tables/messages.sql",
          "types/message.sql",
          "functions/message-store-version.sql",
          "functions/hash-64.sql",
          "functions/acquire-lock.sql",
          "functions/category.sql",
          "functions/is-category.sql",
          "functions/id.sql",
          "functions/cardinal-id.sql",
          "functions/stream-version.sql",
          "functions/write-message.sql",
          "functions/get-stream-messages.sql",
          "functions/get-category-messages.sql",
          "functions/get-last-stream-message.sql",
          "indexes/messages-id.sql",
          "indexes/messages-stream.sql",
          "indexes/messages-category.sql");

  private final HikariDataSource dataSource;
  private final String version;

  private MessageDbPeer(String jdbcUrl, Path sqlDirectory) throws Exception {
    // Message DB's functions name their table and each other unqualified: its role normally has
    // search_path message_store; the pool sets the same.
    dataSource =
        BenchmarkDatabase.pool(
            jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "currentSchema=message_store,public",
            "messagedb");
    version = Files.readString(sqlDirectory.resolve("VERSION.txt")).strip();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      for (String file : INSTALL_FILES) {
        s.execute(Files.readString(sqlDirectory.resolve(file)));
      }
    }
  }

  /** Message DB on this database, if {@code benchmarks/run} made its SQL available. */
  static Optional<MessageDbPeer> install(String jdbcUrl) throws Exception {
    String directory = System.getProperty(DIRECTORY_PROPERTY, "");
    if (directory.isEmpty() || !Files.isRegularFile(Path.of(directory, "VERSION.txt"))) {
      return Optional.empty();
    }
    return Optional.of(new MessageDbPeer(jdbcUrl, Path.of(directory)));
  }

  String version() {
    return version;
  }

  Connection connection() throws SQLException {
    return dataSource.getConnection();
  }

  /** A prepared {@code write_message} call: id, stream, type, data, metadata, expected version. */
  static PreparedStatement prepareWrite(Connection connection) throws SQLException {
    return connection.prepareStatement("SELECT write_message(?, ?, ?, ?::jsonb, ?::jsonb, ?)");
  }

  /**
   * Writes the benchmark's event as message {@code position} of {@code streamName} (Message DB
   * counts from 0), expecting the stream at {@code position - 1}.
   */
  static void write(PreparedStatement write, String streamName, long position) throws SQLException {
    write.setString(1, UUID.randomUUID().toString());
    write.setString(2, streamName);
    write.setString(3, Payloads.TYPE);
    write.setString(4, Payloads.DATA);
    write.setString(
        5, MetadataJson.write(EventMetadata.correlated(UUID.randomUUID().toString(), null)));
    write.setLong(6, position - 1);
    try (ResultSet result = write.executeQuery()) {
      result.next();
    }
  }

  /** Runs SQL outside Message DB's functions: bulk fills and test triggers. */
  void execute(String sql) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
