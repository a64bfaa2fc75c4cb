package dev.eventscan.eventstore;

import dev.eventscan.eventstore.internal.PostgresEventStore;
import dev.eventscan.eventstore.projection.Projection;
import dev.eventscan.eventstore.schema.EventStoreSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/** Configures an {@link EventStore}. */
public final class EventStoreBuilder {
  public static final int DEFAULT_MAX_EVENT_DATA_BYTES = 1024 * 1024;

  private final DataSource dataSource;
  private String schema = EventStoreSchema.DEFAULT_SCHEMA;
  private int maxEventDataBytes = DEFAULT_MAX_EVENT_DATA_BYTES;
  private boolean migrate = true;
  private NotifyMode notifyMode = NotifyMode.AFTER_COMMIT;
  private boolean coalesceAppends = true;
  private final List<Projection> inlineProjections = new ArrayList<>();
  private Duration pollInterval = Duration.ofMillis(500);

  EventStoreBuilder(DataSource dataSource) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
  }

  /** The schema for the store's tables; default {@code event_store}. */
  public EventStoreBuilder schema(String schema) {
    this.schema = EventStoreSchema.requireValidName(schema);
    return this;
  }

  /** The largest event data accepted, in UTF-8 bytes; default 1 MiB. */
  public EventStoreBuilder maxEventDataBytes(int maxEventDataBytes) {
    if (maxEventDataBytes <= 0) {
      throw new IllegalArgumentException("maxEventDataBytes must be positive");
    }
    this.maxEventDataBytes = maxEventDataBytes;
    return this;
  }

  /** Whether {@link #build()} applies the store's migrations first; default true. */
  public EventStoreBuilder migrate(boolean migrate) {
    this.migrate = migrate;
    return this;
  }

  /** How appends wake up live subscriptions; default {@link NotifyMode#AFTER_COMMIT}. */
  public EventStoreBuilder notifyMode(NotifyMode notifyMode) {
    this.notifyMode = Objects.requireNonNull(notifyMode, "notifyMode");
    return this;
  }

  /**
   * Whether concurrent {@code append} calls with an exact expected version ({@code exactly(n)},
   * {@code noStream()}) share one transaction and one commit; default true. Each call keeps its own
   * expected-version check and its own result or error, and returns once its events are durable.
   * Appends gather only while many are in flight (more than 16); fewer go alone, as without
   * coalescing, because PostgreSQL's group commit already shares their flushes. Never applies to
   * atomic multi-stream appends, {@code any()} / {@code streamExists()}, or a store with inline
   * projections.
   */
  public EventStoreBuilder coalesceAppends(boolean coalesceAppends) {
    this.coalesceAppends = coalesceAppends;
    return this;
  }

  /**
   * Runs a projection inside every append's transaction, for a read model that must never lag.
   * Appends then take a transaction and one more round trip; a projection that throws makes the
   * append fail and write nothing.
   */
  public EventStoreBuilder inlineProjection(Projection projection) {
    inlineProjections.add(Objects.requireNonNull(projection, "projection"));
    return this;
  }

  /**
   * How often projections and live subscriptions read the log when no notification woke them;
   * default 500 ms. Notifications usually wake them within milliseconds.
   */
  public EventStoreBuilder pollInterval(Duration pollInterval) {
    if (pollInterval == null || pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval must be positive");
    }
    this.pollInterval = pollInterval;
    return this;
  }

  /**
   * Creates the store. Side effects: with {@link #migrate(boolean)} (the default) it applies the
   * schema's migrations first; with {@link NotifyMode#AFTER_COMMIT} it starts one daemon thread
   * that sends wake-up notifications. Subscriptions, projections and the live feed start their
   * threads only when used. {@link EventStore#close()} stops them all.
   */
  public EventStore build() {
    if (migrate) {
      EventStoreSchema.migrate(dataSource, schema);
    }
    return new PostgresEventStore(
        dataSource,
        schema,
        maxEventDataBytes,
        inlineProjections,
        notifyMode,
        pollInterval,
        coalesceAppends);
  }
}
