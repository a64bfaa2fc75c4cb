package dev.eventscan.eventstore;

import dev.eventscan.eventstore.aggregate.AggregateRepository;
import dev.eventscan.eventstore.aggregate.AggregateType;
import dev.eventscan.eventstore.global.GlobalLogReader;
import dev.eventscan.eventstore.live.LiveEvents;
import dev.eventscan.eventstore.projection.Projections;
import dev.eventscan.eventstore.serialization.EventSerializer;
import dev.eventscan.eventstore.snapshot.SnapshotStore;
import dev.eventscan.eventstore.statistics.EventStatistics;
import dev.eventscan.eventstore.stream.StreamReader;
import dev.eventscan.eventstore.stream.StreamWriter;
import dev.eventscan.eventstore.subscription.Subscriptions;
import javax.sql.DataSource;

/**
 * An event store on PostgreSQL: streams with optimistic concurrency and a global log that never
 * skips an event. Thread-safe; one instance per {@link DataSource} and schema.
 *
 * <pre>{@code
 * EventStore store = EventStore.builder(dataSource).build(); // migrates schema event_store
 * store.append("order-42", ExpectedVersion.noStream(), EventData.of("OrderPlaced", "{}"));
 * }</pre>
 */
public interface EventStore extends StreamWriter, StreamReader, GlobalLogReader, AutoCloseable {

  static EventStoreBuilder builder(DataSource dataSource) {
    return new EventStoreBuilder(dataSource);
  }

  /** The PostgreSQL schema holding the store's tables. */
  String schema();

  /** The data source the store runs on. */
  DataSource dataSource();

  /** The LISTEN channel appends notify on. */
  default String notificationChannel() {
    return schema() + "_appended";
  }

  /**
   * Named, checkpointed subscriptions (catch-up then live, one active consumer per name across
   * processes, retries and parked failures). Created on first use; its workers start with each
   * {@code start} and stop on {@link #close()}.
   */
  Subscriptions subscriptions();

  /** Projections (read models) with status, rebuild and replay, on {@link #subscriptions()}. */
  Projections projections();

  /** Live, non-durable subscriptions for push to clients; its thread starts with the first one. */
  LiveEvents live();

  /** Snapshots of aggregate state, as JSON. */
  SnapshotStore snapshots();

  /** Monitoring figures: totals, rates, lag, barrier age, parked failures. */
  EventStatistics statistics();

  /**
   * A repository for one aggregate type: load, decide, append with the expected version, retrying a
   * few times on a concurrent change; snapshots per the type's policy.
   */
  <S, E> AggregateRepository<S, E> aggregates(AggregateType<S, E> type, EventSerializer serializer);

  /**
   * Stops everything the store started (live feed, subscriptions and projections, the notifier) and
   * waits for their threads. The data source stays open and as it was given: it is the caller's.
   */
  @Override
  void close();
}
