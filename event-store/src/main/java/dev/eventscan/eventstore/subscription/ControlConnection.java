package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.internal.Barrier;
import dev.eventscan.eventstore.jdbc.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The dedicated connection that holds a subscription's advisory lock. Losing it means losing the
 * lock, so the worker checks it is alive between waits. It goes back with the lock undone, or is
 * aborted: never into the pool with it.
 */
final class ControlConnection implements AutoCloseable {
  private static final Duration ALIVE_CHECK_INTERVAL = Duration.ofMillis(100);

  /** A 64-bit key from the subscription's schema and name, so names practically never collide. */
  static final String LOCK_KEY = "('x' || substr(md5(?), 1, 16))::bit(64)::bigint";

  private final Connection connection;
  private long lastAliveCheck;

  private ControlConnection(Connection connection) {
    this.connection = connection;
  }

  /** The lock of {@code lockName}; empty if another holds it. */
  static Optional<ControlConnection> tryAcquire(DataSource dataSource, String lockName)
      throws SQLException {
    ControlConnection control = open(dataSource);
    try {
      if (!control.tryLock(lockName)) {
        control.close();
        return Optional.empty();
      }
      return Optional.of(control);
    } catch (SQLException | RuntimeException e) {
      control.close();
      throw e;
    }
  }

  /** A session holding no lock yet, for {@link #tryLock} of several (a segment group's). */
  static ControlConnection open(DataSource dataSource) throws SQLException {
    Connection c = dataSource.getConnection();
    try {
      c.setAutoCommit(true);
      return new ControlConnection(c);
    } catch (SQLException | RuntimeException e) {
      Jdbc.releaseSessionConnection(c);
      throw e;
    }
  }

  /** Takes the lock of {@code lockName} on this session; false if another session holds it. */
  boolean tryLock(String lockName) throws SQLException {
    return lockCall("pg_try_advisory_lock", lockName);
  }

  /** Lets go of a lock this session holds, while it keeps its others. */
  void unlock(String lockName) throws SQLException {
    if (!lockCall("pg_advisory_unlock", lockName)) {
      throw new SQLException("the lock of " + lockName + " was not held by this session");
    }
  }

  private boolean lockCall(String function, String lockName) throws SQLException {
    try (PreparedStatement lock =
        connection.prepareStatement("SELECT " + function + "(" + LOCK_KEY + ")")) {
      lock.setString(1, lockName);
      try (ResultSet row = lock.executeQuery()) {
        row.next();
        return row.getBoolean(1);
      }
    }
  }

  /** For reading and creating the checkpoint, outside any transaction. */
  Connection connection() {
    return connection;
  }

  /**
   * Whether committed events of {@code schema} wait at or above the transaction-id barrier: an
   * older transaction still runs, and its commit, which lets them through, sends no notification.
   */
  boolean eventsHeldBack(String schema) throws SQLException {
    try (Statement query = connection.createStatement();
        ResultSet row = query.executeQuery("SELECT " + Barrier.eventsHeldBack(schema))) {
      row.next();
      return row.getBoolean(1);
    }
  }

  /**
   * Checks the connection, at most every {@link #ALIVE_CHECK_INTERVAL}: a lost lock is noticed
   * within that time, and the compare-and-set checkpoint keeps a late worker harmless meanwhile.
   */
  void requireAlive() throws SQLException {
    if (System.nanoTime() - lastAliveCheck >= ALIVE_CHECK_INTERVAL.toNanos()) {
      requireAliveNow();
    }
  }

  /** Checks the connection with a round trip now. */
  void requireAliveNow() throws SQLException {
    lastAliveCheck = System.nanoTime();
    try (Statement ping = connection.createStatement()) {
      ping.execute("SELECT 1");
    }
  }

  @Override
  public void close() {
    Jdbc.releaseSessionConnection(connection);
  }
}
