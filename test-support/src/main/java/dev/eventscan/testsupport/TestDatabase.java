package dev.eventscan.testsupport;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import javax.sql.DataSource;

/** A database created for one test class; JUnit closes its pool with the class. */
public record TestDatabase(
    String jdbcUrl, String user, String password, HikariDataSource pooledDataSource)
    implements AutoCloseable {

  public DataSource dataSource() {
    return pooledDataSource;
  }

  /** A connection outside the pool, for tests that kill or hold connections on purpose. */
  public Connection openUnpooledConnection() throws SQLException {
    return DriverManager.getConnection(jdbcUrl, user, password);
  }

  @Override
  public void close() {
    pooledDataSource.close();
  }
}
