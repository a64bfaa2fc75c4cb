package dev.eventscan.scan.readmodel;

import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.scan.export.FindingsExport;
import dev.eventscan.scan.lifecycle.ScanStatus;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.sql.DataSource;

/** Reads the scan read models. */
public final class ScanQueries {
  public static final int MAX_LIMIT = 200;
  private static final String SUMMARY_COLUMNS =
      "scan_id, target, scanner, max_retries, status, current_step, progress_percent, domains,"
          + " subdomains, failed_attempts, score, confidence, score_breakdown::text, failure_reason,"
          + " requested_at, started_at, completed_at, duration_ms";

  private final DataSource dataSource;
  private final String schema;

  public ScanQueries(DataSource dataSource, String schema) {
    this.dataSource = dataSource;
    this.schema = schema;
  }

  /**
   * Scans newest first, optionally only one status and/or one target, {@code limit} per page; pass
   * the previous page's cursor to continue.
   */
  public ScanPage list(String status, String target, int limit, String cursor) {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new InvalidQueryException("limit must be between 1 and " + MAX_LIMIT);
    }
    if (status != null) {
      try {
        ScanStatus.valueOf(status.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new InvalidQueryException("status must be one of " + List.of(ScanStatus.values()));
      }
    }
    Cursor after = cursor == null ? null : Cursor.parse(cursor);
    StringBuilder where = new StringBuilder("WHERE true");
    List<Object> parameters = new ArrayList<>();
    if (status != null) {
      where.append(" AND status = ?");
      parameters.add(status.toUpperCase(Locale.ROOT));
    }
    if (target != null) {
      where.append(" AND target = ?");
      parameters.add(target);
    }
    if (after != null) {
      where.append(" AND (requested_at, scan_id) < (?, ?)");
      parameters.add(Timestamp.from(after.requestedAt()));
      parameters.add(after.scanId());
    }
    parameters.add(limit + 1);
    String sql =
        "SELECT %s FROM %s.scan_summaries %s ORDER BY requested_at DESC, scan_id DESC LIMIT ?"
            .formatted(SUMMARY_COLUMNS, schema, where);
    List<ScanSummary> rows = query(sql, parameters, ScanQueries::summary);
    String next = null;
    if (rows.size() > limit) {
      rows = rows.subList(0, limit);
      ScanSummary last = rows.get(limit - 1);
      next = new Cursor(last.requestedAt(), last.scanId()).encode();
    }
    return new ScanPage(List.copyOf(rows), next);
  }

  public Optional<ScanSummary> get(String scanId) {
    return query(
            "SELECT %s FROM %s.scan_summaries WHERE scan_id = ?".formatted(SUMMARY_COLUMNS, schema),
            List.of(scanId),
            ScanQueries::summary)
        .stream()
        .findFirst();
  }

  /** Every scan of a target, newest first: for history and trends. */
  public List<ScanSummary> history(String target, int limit) {
    return list(null, target, Math.min(limit, MAX_LIMIT), null).scans();
  }

  public List<DomainProgress> domains(String scanId) {
    return query(
        "SELECT domain, source, status, attempts, wildcard FROM %s.scan_domains WHERE scan_id = ? ORDER BY domain"
            .formatted(schema),
        List.of(scanId),
        row ->
            new DomainProgress(
                row.getString(1),
                row.getString(2),
                row.getString(3),
                row.getInt(4),
                row.getBoolean(5)));
  }

  public List<FindingsExport.Row> findings(String scanId) {
    return query(
        """
        SELECT domain, subdomain, record_type, value, discovered_at FROM %s.scan_findings
         WHERE scan_id = ? ORDER BY domain, subdomain, record_type, value
        """
            .formatted(schema),
        List.of(scanId),
        row ->
            new FindingsExport.Row(
                row.getString(1),
                row.getString(2),
                row.getString(3),
                row.getString(4),
                instant(row, 5)));
  }

  @FunctionalInterface
  private interface RowMapper<T> {
    T map(ResultSet row) throws SQLException;
  }

  private <T> List<T> query(String sql, List<Object> parameters, RowMapper<T> mapper) {
    return Jdbc.withConnection(
        dataSource,
        "scan query",
        c -> {
          try (PreparedStatement statement = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.size(); i++) {
              statement.setObject(i + 1, parameters.get(i));
            }
            List<T> rows = new ArrayList<>();
            try (ResultSet row = statement.executeQuery()) {
              while (row.next()) {
                rows.add(mapper.map(row));
              }
            }
            return rows;
          }
        });
  }

  private static ScanSummary summary(ResultSet row) throws SQLException {
    return new ScanSummary(
        row.getString(1),
        row.getString(2),
        row.getString(3),
        row.getInt(4),
        row.getString(5),
        row.getString(6),
        row.getInt(7),
        row.getInt(8),
        row.getInt(9),
        row.getInt(10),
        row.getObject(11, Integer.class),
        row.getObject(12, Double.class),
        row.getString(13),
        row.getString(14),
        instant(row, 15),
        instant(row, 16),
        instant(row, 17),
        row.getObject(18, Long.class));
  }

  private static Instant instant(ResultSet row, int column) throws SQLException {
    OffsetDateTime time = row.getObject(column, OffsetDateTime.class);
    return time == null ? null : time.toInstant();
  }

  /** Where a page ended: opaque to clients. */
  private record Cursor(Instant requestedAt, String scanId) {
    String encode() {
      return Base64.getUrlEncoder()
          .withoutPadding()
          .encodeToString((requestedAt + "|" + scanId).getBytes(StandardCharsets.UTF_8));
    }

    static Cursor parse(String text) {
      try {
        String decoded = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
        int bar = decoded.indexOf('|');
        return new Cursor(Instant.parse(decoded.substring(0, bar)), decoded.substring(bar + 1));
      } catch (RuntimeException e) {
        throw new InvalidQueryException("cursor is not one this service handed out");
      }
    }
  }
}
