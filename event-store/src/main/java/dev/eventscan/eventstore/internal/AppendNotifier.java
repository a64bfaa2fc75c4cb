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
 * into one NOTIFY, on its own daemon thread, so appends never pay for it.
 */
final class AppendNotifier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AppendNotifier.class);
  private static final long COALESCE_NANOS = 2_000_000;

  private final DataSource dataSource;
  private final String channel;
  private final Thread thread;
  private volatile boolean pending;
  private volatile boolean closed;

  AppendNotifier(DataSource dataSource, String channel) {
    this.dataSource = dataSource;
    this.channel = channel;
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
      try (Connection c = dataSource.getConnection()) {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (PreparedStatement relaxed = c.prepareStatement("SET LOCAL synchronous_commit TO off");
            PreparedStatement notify = c.prepareStatement("SELECT pg_notify(?, '')")) {
          // A NOTIFY takes a transaction id, and every open transaction holds back global
          // readers: commit without waiting for the disk, a hint needs no durability.
          relaxed.execute();
          notify.setString(1, channel);
          notify.executeQuery().close();
          c.commit();
        } finally {
          c.setAutoCommit(autoCommit);
        }
      } catch (SQLException e) {
        log.debug("Append notification not sent; subscriptions will poll: {}", e.toString());
      }
      LockSupport.parkNanos(COALESCE_NANOS);
    }
  }

  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(thread);
  }
}
