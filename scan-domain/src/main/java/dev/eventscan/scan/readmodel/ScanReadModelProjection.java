package dev.eventscan.scan.readmodel;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.projection.Projection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.scan.lifecycle.ScanEvent;
import dev.eventscan.scan.lifecycle.ScanEvent.DomainDiscoveryStarted;
import dev.eventscan.scan.lifecycle.ScanEvent.DomainsDiscovered;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanCancelled;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanCompleted;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanFailed;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanRequested;
import dev.eventscan.scan.lifecycle.ScanEvent.StepAttemptFailed;
import dev.eventscan.scan.lifecycle.ScanEvent.SubdomainDiscoveryStarted;
import dev.eventscan.scan.lifecycle.ScanEvent.SubdomainsDiscovered;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import dev.eventscan.scan.lifecycle.ScanStatus;
import dev.eventscan.scan.scanner.DomainDiscovery.AssociatedDomain;
import dev.eventscan.scan.scanner.SubdomainDiscovery.Finding;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Keeps scan summaries, per-domain progress and findings, in the transaction that moves its
 * checkpoint: the read models see every scan event exactly once, and ignore it when it comes again
 * (a retried parked event, a redelivery): each scan's events apply in stream-version order, once.
 */
public final class ScanReadModelProjection implements Projection {
  public static final String NAME = "scan-read-models";
  private static final ObjectMapper JSON = ScanEventTypes.objectMapper();

  private final String schema;
  private final Function<RecordedEvent, ScanEvent> deserializer;

  public ScanReadModelProjection(String schema, Function<RecordedEvent, ScanEvent> deserializer) {
    this.schema = schema;
    this.deserializer = deserializer;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public EventFilter filter() {
    return EventFilter.categories(ScanEventTypes.CATEGORY);
  }

  @Override
  public void project(RecordedEvent recorded, Connection tx) throws SQLException {
    ScanEvent event = deserializer.apply(recorded);
    long version = recorded.streamVersion();
    if (alreadyApplied(tx, event.scanId(), version)) {
      return; // a redelivery, or a parked event retried after later ones: applying it would undo
    }
    if (event instanceof ScanRequested e) {
      update(
          tx,
          """
          INSERT INTO %s.scan_summaries
              (scan_id, target, scanner, max_retries, status, progress_percent, requested_at,
               stream_version)
          VALUES (?, ?, ?, ?, 'STARTED', 0, ?, ?)
          ON CONFLICT (scan_id) DO NOTHING
          """,
          e.scanId(),
          e.target(),
          e.scanner(),
          e.maxRetries(),
          time(e.at()),
          version);
    } else if (event instanceof DomainDiscoveryStarted e) {
      summary(
          tx,
          "status = 'DISCOVERING_DOMAINS', current_step = 'domain discovery (attempt ' || ? || ')',"
              + " progress_percent = 10, started_at = coalesce(started_at, ?)",
          e.scanId(),
          version,
          e.attempt(),
          time(e.at()));
    } else if (event instanceof DomainsDiscovered e) {
      // One statement for all of them: a round trip per row was most of this event's cost.
      update(
          tx,
          """
          INSERT INTO %s.scan_domains (scan_id, domain, source)
          SELECT ?, d.domain, d.source FROM unnest(?::text[], ?::text[]) AS d(domain, source)
          ON CONFLICT DO NOTHING
          """,
          e.scanId(),
          textArray(tx, e.domains().stream().map(AssociatedDomain::domain)),
          textArray(tx, e.domains().stream().map(AssociatedDomain::source)));
      summary(
          tx,
          "status = ?, current_step = 'subdomain discovery', domains = ?, progress_percent = ?",
          e.scanId(),
          version,
          e.domains().isEmpty()
              ? ScanStatus.DISCOVERING_SUBDOMAINS.name()
              : "DISCOVERING_SUBDOMAINS",
          e.domains().size(),
          20);
    } else if (event instanceof SubdomainDiscoveryStarted e) {
      update(
          tx,
          "UPDATE %s.scan_domains SET status = 'RUNNING', attempts = ? WHERE scan_id = ? AND domain = ?",
          e.attempt(),
          e.scanId(),
          e.domain());
      summary(tx, "current_step = 'subdomain discovery'", e.scanId(), version);
    } else if (event instanceof SubdomainsDiscovered e) {
      update(
          tx,
          """
          INSERT INTO %s.scan_findings
              (scan_id, domain, subdomain, record_type, value, discovered_at)
          SELECT ?, ?, f.subdomain, f.record_type, f.value, ?
            FROM unnest(?::text[], ?::text[], ?::text[]) AS f(subdomain, record_type, value)
          ON CONFLICT DO NOTHING
          """,
          e.scanId(),
          e.domain(),
          time(e.at()),
          textArray(tx, e.findings().stream().map(Finding::subdomain)),
          textArray(tx, e.findings().stream().map(Finding::recordType)),
          textArray(tx, e.findings().stream().map(Finding::value)));
      update(
          tx,
          "UPDATE %s.scan_domains SET status = 'DONE', wildcard = ? WHERE scan_id = ? AND domain = ?",
          e.wildcard(),
          e.scanId(),
          e.domain());
      summary(
          tx,
          """
          subdomains = (SELECT count(DISTINCT subdomain) FROM %1$s.scan_findings f
                         WHERE f.scan_id = scan_summaries.scan_id),
          progress_percent = 20 + 75 * (SELECT count(*) FILTER (WHERE status = 'DONE')
                                          FROM %1$s.scan_domains d
                                         WHERE d.scan_id = scan_summaries.scan_id)
                                 / greatest(1, domains)
          """,
          e.scanId(),
          version);
    } else if (event instanceof StepAttemptFailed e) {
      summary(tx, "failed_attempts = failed_attempts + 1", e.scanId(), version);
    } else if (event instanceof ScanCompleted e) {
      summary(
          tx,
          "status = 'COMPLETED', current_step = NULL, progress_percent = 100, score = ?,"
              + " confidence = ?, score_breakdown = ?::jsonb, completed_at = ?,"
              + " duration_ms = (extract(epoch FROM ?::timestamptz - requested_at) * 1000)::bigint",
          e.scanId(),
          version,
          e.score().score(),
          e.score().confidence(),
          json(e.score()),
          time(e.at()),
          time(e.at()));
    } else if (event instanceof ScanFailed e) {
      finished(tx, e.scanId(), version, "FAILED", e.reason(), e.at());
    } else if (event instanceof ScanCancelled e) {
      finished(tx, e.scanId(), version, "CANCELLED", e.reason(), e.at());
    }
  }

  /**
   * The per-stream version guard: the summary row keeps the last stream version applied to the
   * scan's read models. The row lock makes a concurrent redelivery wait, then skip.
   */
  private boolean alreadyApplied(Connection tx, String scanId, long version) throws SQLException {
    try (PreparedStatement select =
        tx.prepareStatement(
            "SELECT stream_version FROM %s.scan_summaries WHERE scan_id = ? FOR UPDATE"
                .formatted(schema))) {
      select.setString(1, scanId);
      try (ResultSet row = select.executeQuery()) {
        return row.next() && row.getLong(1) >= version;
      }
    }
  }

  private void finished(
      Connection tx, String scanId, long version, String status, String reason, Instant at)
      throws SQLException {
    summary(
        tx,
        "status = ?, current_step = NULL, failure_reason = ?, completed_at = ?,"
            + " duration_ms = (extract(epoch FROM ?::timestamptz - requested_at) * 1000)::bigint",
        scanId,
        version,
        status,
        reason,
        time(at),
        time(at));
  }

  /** Updates one summary row; {@code set} comes first, then the scan id and stream version. */
  private void summary(Connection tx, String set, String scanId, long version, Object... values)
      throws SQLException {
    Object[] parameters = new Object[values.length + 2];
    System.arraycopy(values, 0, parameters, 0, values.length);
    parameters[values.length] = version;
    parameters[values.length + 1] = scanId;
    update(
        tx,
        "UPDATE %s.scan_summaries SET " + set + ", stream_version = ? WHERE scan_id = ?",
        parameters);
  }

  private void update(Connection tx, String sql, Object... parameters) throws SQLException {
    try (PreparedStatement statement = tx.prepareStatement(sql.formatted(schema))) {
      for (int i = 0; i < parameters.length; i++) {
        statement.setObject(i + 1, parameters[i]);
      }
      statement.executeUpdate();
    }
  }

  private static java.sql.Array textArray(Connection tx, Stream<String> values)
      throws SQLException {
    return tx.createArrayOf("text", values.toArray());
  }

  private static Timestamp time(Instant instant) {
    return Timestamp.from(instant);
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("score could not be written as JSON", e);
    }
  }

  @Override
  public void reset(Connection tx) throws SQLException {
    try (Statement truncate = tx.createStatement()) {
      truncate.execute(
          "TRUNCATE %1$s.scan_summaries, %1$s.scan_domains, %1$s.scan_findings".formatted(schema));
    }
  }
}
