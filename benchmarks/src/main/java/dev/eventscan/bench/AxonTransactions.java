package dev.eventscan.bench;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.ConnectionWrapperFactory;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.common.transaction.TransactionManager;

/**
 * What Spring's transaction manager gives Axon in a usual deployment, without Spring: a transaction
 * binds one pooled connection to the calling thread, Axon's statements run on it, and the outermost
 * transaction commits it. A nested {@code startTransaction} joins the outer one. Outside a
 * transaction, connections are auto-commit and Axon closes them itself.
 */
final class AxonTransactions implements TransactionManager, ConnectionProvider {
  private static final Transaction JOINED =
      new Transaction() {
        @Override
        public void commit() {}

        @Override
        public void rollback() {}
      };

  private final DataSource dataSource;
  private final ThreadLocal<Connection> bound = new ThreadLocal<>();

  AxonTransactions(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  @Override
  public Transaction startTransaction() {
    if (bound.get() != null) {
      return JOINED;
    }
    Connection connection = open();
    bound.set(connection);
    return new Transaction() {
      @Override
      public void commit() {
        end(connection, true);
      }

      @Override
      public void rollback() {
        end(connection, false);
      }
    };
  }

  @Override
  public Connection getConnection() throws SQLException {
    Connection connection = bound.get();
    if (connection == null) {
      return dataSource.getConnection();
    }
    // Axon closes (and may commit) what it gets; the transaction owns the real connection.
    return ConnectionWrapperFactory.wrap(
        connection, new ConnectionWrapperFactory.NoOpCloseHandler());
  }

  private Connection open() {
    try {
      Connection connection = dataSource.getConnection();
      connection.setAutoCommit(false);
      return connection;
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open a connection for Axon", e);
    }
  }

  private void end(Connection connection, boolean commit) {
    bound.remove();
    try (connection) {
      if (commit) {
        connection.commit();
      } else {
        connection.rollback();
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Axon's transaction did not " + (commit ? "commit" : "roll back"), e);
    }
  }
}
