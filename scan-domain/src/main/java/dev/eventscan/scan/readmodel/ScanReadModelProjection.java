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
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
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
  private final Map<String, String> inSchema = new ConcurrentHashMap<>();

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

  /**
   * Under a steady flow of events the read models commit at most every 25 ms, each time what came
   * in meanwhile: at 90 scans/s they committed once per scan (about ten events), each time with its
   * guard read and a summary update per scan. An event after a quiet moment goes in at once.
   */
  @Override
  public Duration batchInterval() {
    return Duration.ofMillis(25);
  }

  @Override
  public void project(RecordedEvent recorded, Connection tx) throws SQLException {
    projectBatch(List.of(recorded), tx);
  }

  /**
   * Applies a batch in a few round trips, whatever its size: each scan's events are folded here, in
   * stream-version order, into the rows they change, and each kind of row is written by one batched
   * statement. The rows end as if the events had been applied one by one.
   */
  @Override
  public void projectBatch(List<RecordedEvent> events, Connection tx) throws SQLException {
    List<ScanEvent> decoded = events.stream().map(deserializer).toList();
    // A batch of requests only (as under a burst of new scans) needs no guard read: each becomes
    // an INSERT that a summary already there, however far along, leaves as it is.
    Map<String, Long> applied =
        decoded.stream().allMatch(ScanRequested.class::isInstance)
            ? new HashMap<>()
            : appliedVersions(tx, decoded.stream().map(ScanEvent::scanId).distinct().toList());
    Changes changes = new Changes();
    for (int i = 0; i < events.size(); i++) {
      ScanEvent event = decoded.get(i);
      long version = events.get(i).streamVersion();
      // A redelivery, or a parked event retried after later ones: applying it would undo.
      if (version > applied.getOrDefault(event.scanId(), 0L)) {
        applied.put(event.scanId(), version);
        changes.add(event, version);
      }
    }
    changes.write(tx);
  }

  /**
   * The per-stream version guard: each summary row keeps the last stream version applied to the
   * scan's read models. The row locks make a concurrent redelivery wait, then skip.
   */
  private Map<String, Long> appliedVersions(Connection tx, List<String> scanIds)
      throws SQLException {
    Map<String, Long> versions = new HashMap<>();
    try (PreparedStatement select =
        tx.prepareStatement(
            """
            SELECT scan_id, stream_version FROM %s.scan_summaries
             WHERE scan_id = ANY(?) ORDER BY scan_id FOR UPDATE
            """
                .transform(this::inSchema))) {
      select.setArray(1, textArray(tx, scanIds.stream()));
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          versions.put(rows.getString(1), rows.getLong(2));
        }
      }
    }
    return versions;
  }

  /** What a batch changes, row by row, in the order the rows must be written. */
  private final class Changes {
    private final List<Object[]> newScans = new ArrayList<>();
    private final List<Object[]> newDomains = new ArrayList<>();
    private final Map<List<String>, DomainChange> domains = new LinkedHashMap<>();
    private final List<Object[]> newFindings = new ArrayList<>();
    private final Map<String, SummaryChange> summaries = new LinkedHashMap<>();

    void add(ScanEvent event, long version) {
      if (event instanceof ScanRequested e) {
        newScans.add(
            new Object[] {
              e.scanId(), e.target(), e.scanner(), e.maxRetries(), e.at().toString(), version
            });
        return;
      }
      SummaryChange summary = summaries.computeIfAbsent(event.scanId(), id -> new SummaryChange());
      summary.version = version;
      if (event instanceof DomainDiscoveryStarted e) {
        summary.status = ScanStatus.DISCOVERING_DOMAINS.name();
        summary.step("domain discovery (attempt " + e.attempt() + ")");
        summary.progress(10);
        if (summary.startedAt == null) {
          summary.startedAt = time(e.at());
        }
      } else if (event instanceof DomainsDiscovered e) {
        for (AssociatedDomain domain : e.domains()) {
          newDomains.add(new Object[] {e.scanId(), domain.domain(), domain.source()});
        }
        summary.status = ScanStatus.DISCOVERING_SUBDOMAINS.name();
        summary.step("subdomain discovery");
        summary.domains = e.domains().size();
        summary.progress(20);
      } else if (event instanceof SubdomainDiscoveryStarted e) {
        DomainChange domain = domain(e.scanId(), e.domain());
        domain.status = "RUNNING";
        domain.attempts = e.attempt();
        summary.step("subdomain discovery");
      } else if (event instanceof SubdomainsDiscovered e) {
        String discoveredAt = e.at().toString(); // once for the event's tens of findings
        for (Finding finding : e.findings()) {
          newFindings.add(
              new Object[] {
                e.scanId(),
                e.domain(),
                finding.subdomain(),
                finding.recordType(),
                finding.value(),
                discoveredAt
              });
        }
        DomainChange domain = domain(e.scanId(), e.domain());
        domain.status = "DONE";
        domain.wildcard = e.wildcard();
        summary.countFindings = true;
        summary.progressFromDomains = true;
      } else if (event instanceof StepAttemptFailed) {
        summary.failedAttempts++;
      } else if (event instanceof ScanCompleted e) {
        summary.finished(ScanStatus.COMPLETED.name(), null, e.at());
        summary.progress(100);
        summary.score = e.score().score();
        summary.confidence = e.score().confidence();
        summary.scoreBreakdown = json(e.score());
      } else if (event instanceof ScanFailed e) {
        summary.finished(ScanStatus.FAILED.name(), e.reason(), e.at());
      } else if (event instanceof ScanCancelled e) {
        summary.finished(ScanStatus.CANCELLED.name(), e.reason(), e.at());
      }
    }

    private DomainChange domain(String scanId, String domain) {
      return domains.computeIfAbsent(List.of(scanId, domain), key -> new DomainChange());
    }

    /** Domains and findings first: the summaries count them. */
    void write(Connection tx) throws SQLException {
      insertRows(
          tx,
          """
          INSERT INTO %s.scan_summaries
              (scan_id, target, scanner, max_retries, status, progress_percent, requested_at,
               stream_version)
          SELECT n.scan_id, n.target, n.scanner, n.max_retries::int, 'STARTED', 0,
                 n.requested_at::timestamptz, n.stream_version::bigint
            FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                 AS n(scan_id, target, scanner, max_retries, requested_at, stream_version)
          ON CONFLICT (scan_id) DO NOTHING
          """,
          newScans);
      insertRows(
          tx,
          """
          INSERT INTO %s.scan_domains (scan_id, domain, source)
          SELECT * FROM unnest(?::text[], ?::text[], ?::text[])
          ON CONFLICT DO NOTHING
          """,
          newDomains);
      batch(
          tx,
          """
          UPDATE %s.scan_domains
             SET status = ?::text, attempts = coalesce(?::int, attempts),
                 wildcard = coalesce(?::boolean, wildcard)
           WHERE scan_id = ? AND domain = ?
          """,
          DomainChange.TYPES,
          domains.entrySet().stream()
              .map(
                  d ->
                      new Object[] {
                        d.getValue().status,
                        d.getValue().attempts,
                        d.getValue().wildcard,
                        d.getKey().get(0),
                        d.getKey().get(1)
                      })
              .toList());
      insertRows(
          tx,
          """
          INSERT INTO %s.scan_findings
              (scan_id, domain, subdomain, record_type, value, discovered_at)
          SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                               ?::text[]::timestamptz[])
          ON CONFLICT DO NOTHING
          """,
          newFindings);
      batch(
          tx,
          SummaryChange.UPDATE,
          SummaryChange.TYPES,
          summaries.entrySet().stream().map(s -> s.getValue().parameters(s.getKey())).toList());
    }
  }

  /** A domain's row after the batch; null leaves a column as it is. */
  private static final class DomainChange {
    /** The update's parameter types: status, attempts, wildcard, scan id, domain. */
    static final int[] TYPES = {
      Types.VARCHAR, Types.INTEGER, Types.BOOLEAN, Types.VARCHAR, Types.VARCHAR
    };

    String status;
    Integer attempts;
    Boolean wildcard;
  }

  /** A summary row's change by the batch; null (or false) leaves a column as it is. */
  private static final class SummaryChange {
    /** Parameters in the order of {@link #parameters}. */
    static final String UPDATE =
        """
        UPDATE %1$s.scan_summaries s
           SET status = coalesce(?::text, status),
               current_step = CASE WHEN ?::boolean THEN ?::text ELSE current_step END,
               domains = coalesce(?::int, domains),
               progress_percent =
                   CASE WHEN ?::boolean
                        THEN 20 + 75 * (SELECT count(*) FILTER (WHERE status = 'DONE')
                                          FROM %1$s.scan_domains d WHERE d.scan_id = s.scan_id)
                                  / greatest(1, coalesce(?::int, domains))
                        ELSE coalesce(?::int, progress_percent) END,
               subdomains =
                   CASE WHEN ?::boolean
                        THEN (SELECT count(DISTINCT subdomain) FROM %1$s.scan_findings f
                               WHERE f.scan_id = s.scan_id)
                        ELSE subdomains END,
               started_at = coalesce(started_at, ?::timestamptz),
               failed_attempts = failed_attempts + ?::int,
               score = coalesce(?::int, score),
               confidence = coalesce(?::float8, confidence),
               score_breakdown = coalesce(?::jsonb, score_breakdown),
               failure_reason = coalesce(?::text, failure_reason),
               completed_at = coalesce(?::timestamptz, completed_at),
               duration_ms =
                   coalesce((extract(epoch FROM ?::timestamptz - requested_at) * 1000)::bigint,
                            duration_ms),
               stream_version = ?::bigint
         WHERE scan_id = ?
        """;

    /** The types of {@link #parameters}, in their order. */
    static final int[] TYPES = {
      Types.VARCHAR, // status
      Types.BOOLEAN, // step changed
      Types.VARCHAR, // step
      Types.INTEGER, // domains
      Types.BOOLEAN, // progress from domains
      Types.INTEGER, // domains
      Types.INTEGER, // progress
      Types.BOOLEAN, // count findings
      Types.TIMESTAMP, // started at
      Types.INTEGER, // failed attempts
      Types.INTEGER, // score
      Types.DOUBLE, // confidence
      Types.VARCHAR, // score breakdown
      Types.VARCHAR, // failure reason
      Types.TIMESTAMP, // completed at
      Types.TIMESTAMP, // completed at, for the duration
      Types.BIGINT, // stream version
      Types.VARCHAR // scan id
    };

    String status;
    boolean stepChanged;
    String step;
    Integer domains;
    boolean progressFromDomains;
    Integer progress;
    boolean countFindings;
    Timestamp startedAt;
    int failedAttempts;
    Integer score;
    Double confidence;
    String scoreBreakdown;
    String failureReason;
    Timestamp completedAt;
    long version;

    void step(String now) {
      stepChanged = true;
      step = now;
    }

    /** A fixed progress; until a later event counts the domains done instead. */
    void progress(int percent) {
      progress = percent;
      progressFromDomains = false;
    }

    void finished(String finalStatus, String reason, Instant at) {
      status = finalStatus;
      step(null);
      failureReason = reason;
      completedAt = time(at);
    }

    Object[] parameters(String scanId) {
      return new Object[] {
        status,
        stepChanged,
        step,
        domains,
        progressFromDomains,
        domains,
        progress,
        countFindings,
        startedAt,
        failedAttempts,
        score,
        confidence,
        scoreBreakdown,
        failureReason,
        completedAt,
        completedAt,
        version,
        scanId
      };
    }
  }

  /**
   * New rows in one statement of one execution: each parameter is a column's values as a text
   * array, unnested back into rows. A scan has tens of findings, and a JDBC batch executes the
   * statement once per row.
   */
  private void insertRows(Connection tx, String sql, List<Object[]> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement statement = tx.prepareStatement(inSchema(sql))) {
      for (int column = 0; column < rows.get(0).length; column++) {
        int index = column;
        statement.setArray(
            column + 1,
            textArray(tx, rows.stream().map(row -> Objects.toString(row[index], null))));
      }
      statement.executeUpdate();
    }
  }

  /**
   * One statement for many rows: the rows go in one batch, in one round trip. Each parameter is
   * bound with its column's type, null or not: pgjdbc sends an untyped null, and every new pattern
   * of nulls in a batch made it parse and plan the statement again (the summary update showed as
   * five different statements in pg_stat_statements).
   */
  private void batch(Connection tx, String sql, int[] types, List<Object[]> rows)
      throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement statement = tx.prepareStatement(inSchema(sql))) {
      for (Object[] row : rows) {
        for (int i = 0; i < row.length; i++) {
          statement.setObject(i + 1, row[i], types[i]);
        }
        statement.addBatch();
      }
      statement.executeBatch();
    }
  }

  /**
   * A statement's text in this projection's schema, formatted once: {@link String#formatted} ran
   * for every statement of every batch, and was a fifteenth of the projection's CPU.
   */
  private String inSchema(String sql) {
    return inSchema.computeIfAbsent(sql, text -> text.formatted(schema));
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
