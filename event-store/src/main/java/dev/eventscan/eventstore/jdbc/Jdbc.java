package dev.eventscan.eventstore.jdbc;

import dev.eventscan.eventstore.EventStoreException;
import dev.eventscan.eventstore.EventStoreStorageException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The few JDBC moves the store needs, and that projection authors and read-model queries can use
 * too: a connection, a transaction, a query mapped row by row, an update, and one unchecked
 * exception ({@link EventStoreStorageException}) for what goes wrong in the database.
 *
 * <pre>{@code
 * List<String> names = Jdbc.withConnection(dataSource, "list names", c ->
 *     Jdbc.query(c, "SELECT name FROM app.people WHERE age > ?", s -> s.setInt(1, 30),
 *         row -> row.getString(1)));
 * }</pre>
 */
public final class Jdbc {
  private Jdbc() {}

  /** Binds a statement's parameters. */
  @FunctionalInterface
  public interface Parameters {
    Parameters NONE = statement -> {};

    void bind(PreparedStatement statement) throws SQLException;
  }

  /** Maps the current row of a result set. */
  @FunctionalInterface
  public interface RowMapper<T> {
    T map(ResultSet row) throws SQLException;
  }

  /** Runs a query on the caller's connection (in its transaction, if any); one element a row. */
  public static <T> List<T> query(
      Connection connection, String sql, Parameters parameters, RowMapper<T> mapper)
      throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      parameters.bind(statement);
      try (ResultSet rows = statement.executeQuery()) {
        List<T> result = new ArrayList<>();
        while (rows.next()) {
          result.add(mapper.map(rows));
        }
        return result;
      }
    }
  }

  /** Runs an INSERT, UPDATE or DELETE on the caller's connection; returns the rows changed. */
  public static int update(Connection connection, String sql, Parameters parameters)
      throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      parameters.bind(statement);
      return statement.executeUpdate();
    }
  }

  @FunctionalInterface
  public interface ConnectionWork<T> {
    T apply(Connection connection) throws SQLException;
  }

  /** Runs {@code work} on a connection in its current (auto-commit) mode. */
  public static <T> T withConnection(DataSource dataSource, String what, ConnectionWork<T> work) {
    try (Connection connection = dataSource.getConnection()) {
      T result = work.apply(connection);
      if (!connection.getAutoCommit()) {
        connection.commit();
      }
      return result;
    } catch (SQLException e) {
      throw storageFailure(what, e);
    }
  }

  /** Runs {@code work} in one transaction: committed if it returns, rolled back if it throws. */
  public static <T> T inTransaction(DataSource dataSource, String what, ConnectionWork<T> work) {
    try (Connection connection = dataSource.getConnection()) {
      boolean autoCommit = connection.getAutoCommit();
      connection.setAutoCommit(false);
      try {
        T result = work.apply(connection);
        connection.commit();
        return result;
      } catch (SQLException | RuntimeException | Error e) {
        rollbackQuietly(connection, e);
        throw e;
      } finally {
        connection.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      throw storageFailure(what, e);
    }
  }

  /**
   * Whether the session is gone or going (class 08, or the server shutting the backend down): the
   * connection must not be used again, and a commit in flight may or may not have happened.
   */
  public static boolean isConnectionFailure(SQLException e) {
    String state = e.getSQLState();
    return state != null
        && (state.startsWith("08")
            || state.equals("57P01")
            || state.equals("57P02")
            || state.equals("57P03"));
  }

  /**
   * Hands back a connection that carried session state (advisory locks, LISTEN): the state is
   * dropped explicitly, and a connection where that cannot be made sure is aborted, so no lock or
   * LISTEN ever reaches a pooled connection someone else will use. Null is ignored.
   */
  public static void releaseSessionConnection(Connection connection) {
    if (connection == null) {
      return;
    }
    try {
      try (Statement reset = connection.createStatement()) {
        reset.execute("SELECT pg_advisory_unlock_all()");
        reset.execute("UNLISTEN *");
      }
      connection.close();
    } catch (SQLException e) {
      try {
        connection.abort(Runnable::run);
        connection.close();
      } catch (SQLException ignored) {
        // Aborted or already gone: either way PostgreSQL ends the session and its state with it.
      }
    }
  }

  /** Puts auto-commit back as it was; a connection that broke meanwhile is left alone. */
  public static void restoreAutoCommit(Connection connection, boolean autoCommit) {
    try {
      if (!connection.isClosed() && connection.getAutoCommit() != autoCommit) {
        connection.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      // The connection is broken; the pool sees that when it is closed.
    }
  }

  public static void rollbackQuietly(Connection connection, Throwable failure) {
    try {
      connection.rollback();
    } catch (SQLException rollbackFailure) {
      failure.addSuppressed(rollbackFailure);
    }
  }

  public static EventStoreException storageFailure(String what, SQLException e) {
    return new EventStoreStorageException(
        what + " failed: " + e.getMessage() + " (SQLState " + e.getSQLState() + ")", e);
  }
}
