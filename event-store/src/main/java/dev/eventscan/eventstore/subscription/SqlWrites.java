package dev.eventscan.eventstore.subscription;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Statements a handler leaves for its subscription to send (see {@link
 * TransactionalEventHandler#ofWrites}), in order, each with its parameters ({@code ?}, bound with
 * {@link PreparedStatement#setObject}: strings, numbers, booleans, and arrays of them such as
 * {@code String[]} or {@code long[]}, cast in the SQL where the type matters: {@code ?::text[]}).
 * Immutable.
 */
public final class SqlWrites {
  private static final SqlWrites NONE = new SqlWrites(List.of(), List.of());

  private final List<String> statements;
  private final List<Object> parameters;

  private SqlWrites(List<String> statements, List<Object> parameters) {
    this.statements = statements;
    this.parameters = parameters;
  }

  /** Nothing to write. */
  public static SqlWrites none() {
    return NONE;
  }

  /** One statement, without a trailing semicolon, and its parameters in order. */
  public static SqlWrites of(String sql, Object... parameters) {
    return NONE.and(sql, parameters);
  }

  /** These statements, then {@code sql}. */
  public SqlWrites and(String sql, Object... parameters) {
    Objects.requireNonNull(sql, "sql");
    String statement = sql.strip();
    if (statement.isEmpty() || statement.endsWith(";")) {
      throw new IllegalArgumentException(
          "one SQL statement without a trailing semicolon, was: '" + sql + "'");
    }
    return and(
        new SqlWrites(
            List.of(statement), Collections.unmodifiableList(Arrays.asList(parameters.clone()))));
  }

  /** These statements, then {@code more}'s. */
  public SqlWrites and(SqlWrites more) {
    if (more.isEmpty()) {
      return this;
    }
    if (isEmpty()) {
      return more;
    }
    List<String> allStatements = new ArrayList<>(statements);
    allStatements.addAll(more.statements);
    List<Object> allParameters = new ArrayList<>(parameters);
    allParameters.addAll(more.parameters);
    return new SqlWrites(List.copyOf(allStatements), Collections.unmodifiableList(allParameters));
  }

  public boolean isEmpty() {
    return statements.isEmpty();
  }

  /** Runs them now in {@code transaction}, all in one round trip. */
  public void execute(Connection transaction) throws SQLException {
    if (isEmpty()) {
      return;
    }
    try (PreparedStatement statement = transaction.prepareStatement(sql())) {
      bind(statement, 1);
      statement.execute();
    }
  }

  /** The statements as one multi-statement text; pgjdbc sends its parts in one round trip. */
  String sql() {
    return String.join(";\n", statements);
  }

  /** Binds the parameters from {@code first}; returns the index after the last one. */
  int bind(PreparedStatement statement, int first) throws SQLException {
    int index = first;
    for (Object parameter : parameters) {
      statement.setObject(index++, parameter);
    }
    return index;
  }

  @Override
  public String toString() {
    return "SqlWrites" + statements;
  }
}
