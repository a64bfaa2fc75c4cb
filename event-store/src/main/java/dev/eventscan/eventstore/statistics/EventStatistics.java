package dev.eventscan.eventstore.statistics;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.projection.Projections;
import dev.eventscan.eventstore.statistics.Overview.Count;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.subscription.ParkedFailure;
import dev.eventscan.eventstore.subscription.SubscriptionStatus;
import dev.eventscan.eventstore.subscription.Subscriptions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * What monitoring shows, read from counters and small tables only: every call costs a handful of
 * index lookups however long the log is. Needs the {@link StatisticsProjection} running.
 */
public final class EventStatistics {
  private final EventStore store;
  private final Subscriptions subscriptions;
  private final Projections projections;

  public EventStatistics(EventStore store, Subscriptions subscriptions, Projections projections) {
    this.store = store;
    this.subscriptions = subscriptions;
    this.projections = projections;
  }

  public Overview overview() {
    List<SubscriptionStatus> subscriptionStatuses = subscriptions.list();
    Position countedUpTo =
        subscriptionStatuses.stream()
            .filter(s -> s.name().equals("projection-" + StatisticsProjection.NAME))
            .map(SubscriptionStatus::position)
            .findFirst()
            .orElse(Position.START);
    return Jdbc.withConnection(
        store.dataSource(),
        "overview",
        c -> {
          long[] totals = totals(c);
          return new Overview(
              totals[0],
              totals[1],
              single(
                  c,
                  "SELECT greatest(reltuples, 0)::bigint FROM pg_class"
                      + " WHERE oid = '%s.events'::regclass"),
              store.headPosition(),
              countedUpTo,
              store.barrierAge(),
              counts(
                  c, "SELECT type, count FROM %s.event_counts_by_type ORDER BY count DESC, type"),
              projections.statuses(subscriptionStatuses),
              subscriptionStatuses,
              single(c, "SELECT count(*) FROM %s.processing_failures WHERE status = 'open'"));
        });
  }

  public Statistics statistics() {
    return Jdbc.withConnection(
        store.dataSource(),
        "statistics",
        c ->
            new Statistics(
                counts(
                    c, "SELECT type, count FROM %s.event_counts_by_type ORDER BY count DESC, type"),
                counts(
                    c,
                    "SELECT category, count FROM %s.event_counts_by_category"
                        + " ORDER BY count DESC, category")));
  }

  /** The newest events, newest first. */
  public List<RecordedEvent> recentEvents(int limit) {
    return store.readLatest(EventFilter.all(), limit);
  }

  public List<ParkedFailure> failures(String status, int limit) {
    return subscriptions.failures(status, limit);
  }

  private long[] totals(Connection c) throws SQLException {
    try (PreparedStatement select =
            c.prepareStatement(
                "SELECT events, streams FROM %s.event_totals WHERE id = 1"
                    .formatted(store.schema()));
        ResultSet row = select.executeQuery()) {
      return row.next() ? new long[] {row.getLong(1), row.getLong(2)} : new long[2];
    }
  }

  private long single(Connection c, String sql) throws SQLException {
    try (PreparedStatement select = c.prepareStatement(sql.formatted(store.schema()));
        ResultSet row = select.executeQuery()) {
      row.next();
      return row.getLong(1);
    }
  }

  private List<Count> counts(Connection c, String sql) throws SQLException {
    try (PreparedStatement select = c.prepareStatement(sql.formatted(store.schema()));
        ResultSet rows = select.executeQuery()) {
      List<Count> counts = new ArrayList<>();
      while (rows.next()) {
        counts.add(new Count(rows.getString(1), rows.getLong(2)));
      }
      return counts;
    }
  }
}
