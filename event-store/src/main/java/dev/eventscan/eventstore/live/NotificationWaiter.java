package dev.eventscan.eventstore.live;

import dev.eventscan.eventstore.jdbc.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.postgresql.PGConnection;

/**
 * Waits for the store's "appended" hint on a connection of its own that LISTENs. A lost connection
 * only means waiting the full interval (polling) until it is opened again; the connection goes back
 * without its LISTEN, or is aborted when that cannot be made sure.
 */
final class NotificationWaiter implements AutoCloseable {
  private final DataSource dataSource;
  private final String channel;
  private Connection connection;

  NotificationWaiter(DataSource dataSource, String channel) {
    this.dataSource = dataSource;
    this.channel = channel;
  }

  /**
   * Starts listening now, so a hint sent from here on is not missed (wait on it with {@link
   * #await}). If that fails, {@code await} tries again.
   */
  void listen() {
    try {
      ensureListening();
    } catch (SQLException e) {
      close();
    }
  }

  /** Returns when a hint arrives (or arrived since listening began) or after {@code timeout}. */
  void await(Duration timeout) throws InterruptedException {
    try {
      ensureListening();
      connection.unwrap(PGConnection.class).getNotifications((int) timeout.toMillis());
    } catch (SQLException e) {
      close();
      Thread.sleep(timeout.toMillis()); // no hints for now: fall back to polling
    }
  }

  private void ensureListening() throws SQLException {
    if (connection == null) {
      connection = dataSource.getConnection();
      connection.setAutoCommit(true);
      try (Statement listen = connection.createStatement()) {
        listen.execute("LISTEN " + channel);
      }
    }
  }

  @Override
  public void close() {
    Jdbc.releaseSessionConnection(connection);
    connection = null;
  }
}
