package dev.eventscan.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Locale;
import javax.sql.DataSource;

/**
 * Where PostgreSQL's time goes, statement by statement (pg_stat_statements), per unit of a
 * scenario's work. Off unless {@code -Dbench.statements=N} (the N statements that took the most
 * time are printed); the server then loads the extension at start.
 */
final class StatementStats {
  static final int TOP = Integer.getInteger("bench.statements", 0);

  private StatementStats() {}

  static boolean enabled() {
    return TOP > 0;
  }

  /** Starts counting from zero in the database of {@code dataSource}. */
  static void reset(DataSource dataSource) throws Exception {
    if (!enabled()) {
      return;
    }
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      s.execute("SELECT pg_stat_statements_reset()");
    }
  }

  /** Prints the statements that took the most time since {@link #reset}, per {@code units}. */
  static void print(DataSource dataSource, String scenario, String unit, long units)
      throws Exception {
    if (!enabled()) {
      return;
    }
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                """
                SELECT calls, total_exec_time, rows, regexp_replace(query, '\\s+', ' ', 'g')
                  FROM pg_stat_statements
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                 ORDER BY total_exec_time DESC LIMIT %d
                """
                    .formatted(TOP))) {
      System.out.printf(
          Locale.ROOT, "# %s: statements by time (per %s: calls, ms, rows)%n", scenario, unit);
      while (r.next()) {
        String query = r.getString(4);
        System.out.printf(
            Locale.ROOT,
            "#   %6.2f %7.3f %7.1f  %s%n",
            r.getLong(1) / (double) units,
            r.getDouble(2) / units,
            r.getLong(3) / (double) units,
            query.length() > 160 ? query.substring(0, 160) : query);
      }
    }
  }
}
