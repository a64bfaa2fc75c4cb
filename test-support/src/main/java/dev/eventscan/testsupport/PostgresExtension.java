package dev.eventscan.testsupport;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each test class a fresh database on the JVM's one real PostgreSQL server, injected as a
 * pooled {@link DataSource} (constructor, lifecycle or test method parameter). Also resolves a
 * {@link TestDatabase} for tests that need the JDBC URL itself (a second pool, a killed backend).
 */
public final class PostgresExtension implements BeforeAllCallback, ParameterResolver {
  private static final Namespace NAMESPACE = Namespace.create(PostgresExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    database(context);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == DataSource.class || type == TestDatabase.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    TestDatabase database = database(context);
    return parameter.getParameter().getType() == DataSource.class
        ? database.dataSource()
        : database;
  }

  private static TestDatabase database(ExtensionContext context) {
    ExtensionContext classContext = classContext(context);
    return classContext
        .getStore(NAMESPACE)
        .computeIfAbsent(
            "database",
            key -> createDatabase(classContext.getRequiredTestClass().getSimpleName()),
            TestDatabase.class);
  }

  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext current = context;
    while (current.getTestMethod().isPresent()) {
      current = current.getParent().orElseThrow();
    }
    return current;
  }

  private static TestDatabase createDatabase(String hint) {
    PostgresServer server = PostgresServer.get();
    String url = server.createDatabase(hint);
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername(server.user());
    config.setPassword(server.password());
    config.setMaximumPoolSize(20);
    config.setPoolName("test-" + hint);
    return new TestDatabase(url, server.user(), server.password(), new HikariDataSource(config));
  }
}
