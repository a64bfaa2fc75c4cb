package dev.eventscan.eventstore.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the "events appended" hint after appends commit, folding the appends of a few milliseconds
 * into one NOTIFY, on its own daemon thread and connection, so appends never pay for it.
 */
final class AppendNotifier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AppendNotifier.class);
  private static final long COALESCE_NANOS = 2_000_000;

  private final DataSource dataSource;
  private final String channel;
  private final String payload;
  private final Thread thread;
  private volatile boolean pending;
  private volatile boolean closed;
  private Connection connection;
  private PreparedStatement notify;

  /** {@code payload} tells this process's own listener that its readers were woken already. */
  AppendNotifier(DataSource dataSource, String channel, String payload) {
    this.dataSource = dataSource;
    this.channel = channel;
    this.payload = payload;
    this.thread = new Thread(this::run, "event-store-notifier-" + channel);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  void appended() {
    pending = true;
    LockSupport.unpark(thread);
  }

  private void run() {
    while (!closed) {
      if (!pending) {
        LockSupport.park(this);
        continue;
      }
      pending = false;
      try {
        notifyOnce();
      } catch (SQLException e) {
        log.debug("Append notification not sent; subscriptions will poll: {}", e.toString());
        disconnect();
      }
      LockSupport.parkNanos(COALESCE_NANOS);
    }
    disconnect();
  }

  /**
   * One auto-committed statement. A NOTIFY takes a transaction id, and open transactions hold back
   * global readers, so it commits without waiting for the disk: a hint needs no durability. The
   * setting is local to that one statement's transaction: the connection goes back to the pool as
   * it came, and appends on it later stay durable.
   */
  private void notifyOnce() throws SQLException {
    if (connection == null) {
      connection = dataSource.getConnection();
      connection.setAutoCommit(true);
      notify =
          connection.prepareStatement(
              "SELECT set_config('synchronous_commit', 'off', true), pg_notify(?, ?)");
      notify.setString(1, channel);
      notify.setString(2, payload);
    }
    notify.executeQuery().close();
  }

  private void disconnect() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        log.debug("Notifier connection did not close cleanly", e);
      }
      connection = null;
      notify = null;
    }
  }

  /** Stops the thread and waits for it, so its connection is back in the pool on return. */
  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(thread);
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
