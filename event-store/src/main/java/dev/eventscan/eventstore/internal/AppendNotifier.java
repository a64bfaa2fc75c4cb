package dev.eventscan.eventstore.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the "events appended" hint after appends commit, folding the appends of a few milliseconds
 * into one NOTIFY, on its own daemon thread and connection, so appends never pay for it. Only when
 * another store listens: the appending store's own readers were woken at the commit ({@link
 * AppendSignal}), and a NOTIFY is a transaction that cost a single writer about a third of its
 * appends when commits did not wait for the disk. Whether anyone else listens is looked up at most
 * once a second while appends come; a store that starts listening meanwhile polls until then.
 */
final class AppendNotifier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AppendNotifier.class);
  private static final long COALESCE_NANOS = 2_000_000;
  private static final long PRESENCE_CHECK_NANOS = 1_000_000_000;

  private final DataSource dataSource;
  private final String channel;
  private final AppendSignal signal;
  private final Thread thread;
  private volatile boolean pending;
  private volatile boolean closed;
  private volatile boolean othersListen = true; // until looked up
  private long presenceCheckedAt = System.nanoTime() - PRESENCE_CHECK_NANOS; // due at once
  private Connection connection;
  private PreparedStatement notify;
  private PreparedStatement presence;

  /** {@code signal}: this process's readers, whose listener's backend is not "another store". */
  AppendNotifier(DataSource dataSource, String channel, AppendSignal signal) {
    this.dataSource = dataSource;
    this.channel = channel;
    this.signal = signal;
    this.thread = new Thread(this::run, "event-store-notifier-" + channel);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  void appended() {
    pending = true;
    if (othersListen) {
      LockSupport.unpark(thread); // otherwise it looks again within a second by itself
    }
  }

  private void run() {
    while (!closed) {
      if (!pending) {
        if (othersListen) {
          LockSupport.park(this);
        } else {
          LockSupport.parkNanos(this, PRESENCE_CHECK_NANOS);
        }
        continue;
      }
      pending = false;
      try {
        connect();
        if (System.nanoTime() - presenceCheckedAt >= PRESENCE_CHECK_NANOS) {
          othersListen = othersListen();
        }
        if (othersListen) {
          notify.executeQuery().close();
        }
      } catch (SQLException e) {
        log.debug("Append notification not sent; subscriptions will poll: {}", e.toString());
        disconnect();
      }
      // With nobody else listening, appends leave it parked until the next look-up is due.
      LockSupport.parkNanos(
          othersListen
              ? COALESCE_NANOS
              : Math.max(
                  COALESCE_NANOS, presenceCheckedAt + PRESENCE_CHECK_NANOS - System.nanoTime()));
    }
    disconnect();
  }

  private boolean othersListen() throws SQLException {
    presence.setInt(1, signal.listenerPid());
    try (ResultSet row = presence.executeQuery()) {
      row.next();
      presenceCheckedAt = System.nanoTime();
      return row.getBoolean(1);
    }
  }

  /**
   * The NOTIFY is one auto-committed statement. It takes a transaction id, and open transactions
   * hold back global readers, so it commits without waiting for the disk: a hint needs no
   * durability. The setting is local to that one statement's transaction: the connection goes back
   * to the pool as it came, and appends on it later stay durable.
   */
  private void connect() throws SQLException {
    if (connection == null) {
      connection = dataSource.getConnection();
      connection.setAutoCommit(true);
      notify =
          connection.prepareStatement(
              "SELECT set_config('synchronous_commit', 'off', true), pg_notify(?, ?)");
      notify.setString(1, channel);
      notify.setString(2, signal.ownPayload());
      presence =
          connection.prepareStatement(
              """
              SELECT EXISTS (
                SELECT 1 FROM pg_locks
                 WHERE locktype = 'advisory' AND granted AND pid <> ?
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND ((classid::bigint << 32) | objid::bigint) = %s)"""
                  .formatted(AppendSignal.PRESENCE_KEY));
      presence.setString(2, channel);
    }
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
      presence = null;
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
