package dev.eventscan.eventstore.projection;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.subscription.SqlWrites;
import dev.eventscan.eventstore.subscription.Subscription;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.eventstore.subscription.SubscriptionStatus;
import dev.eventscan.eventstore.subscription.Subscriptions;
import dev.eventscan.eventstore.subscription.TransactionalEventHandler;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Runs projections as transactional subscriptions named {@code projection-<name>}, and rebuilds or
 * replays them. Rebuilds happen in the background: {@link #rebuild} returns at once and the status
 * shows the progress.
 */
public final class Projections implements AutoCloseable {
  /**
   * Events per page read (the subscription default is 500). Each projecting transaction holds a
   * transaction id from its first write to its commit, and every global reader (live feeds, other
   * subscriptions) waits behind it: the subscription sizes its transactions by time within a page,
   * and a page of 100 also bounds them. A tuning may change it.
   */
  static final int BATCH = 100;

  private final Subscriptions subscriptions;
  private final EventStore store;
  private final UnaryOperator<SubscriptionOptions> tuning;
  private final Map<String, Projection> projections = new LinkedHashMap<>();
  private final Map<String, Subscription> running = new LinkedHashMap<>();

  public Projections(Subscriptions subscriptions) {
    this(subscriptions, UnaryOperator.identity());
  }

  /** {@code tuning} adjusts each projection's subscription options (batch size, polling). */
  public Projections(Subscriptions subscriptions, UnaryOperator<SubscriptionOptions> tuning) {
    this.subscriptions = subscriptions;
    this.store = subscriptions.store();
    this.tuning = tuning;
  }

  /** Registers and starts a projection. */
  public synchronized void start(Projection projection) {
    if (projections.putIfAbsent(projection.name(), projection) != null) {
      throw new IllegalArgumentException("projection " + projection.name() + " already started");
    }
    Jdbc.withConnection(
        store.dataSource(),
        "register projection",
        c -> {
          try (PreparedStatement upsert =
              c.prepareStatement(
                  """
                  INSERT INTO %s.projections (name, state) VALUES (?, 'running')
                  ON CONFLICT (name) DO UPDATE
                     SET state = CASE WHEN projections.state = 'rebuilding' THEN 'rebuilding'
                                      ELSE 'running' END,
                         updated_at = now()
                  """
                      .formatted(store.schema()))) {
            upsert.setString(1, projection.name());
            return upsert.executeUpdate();
          }
        });
    startSubscription(projection);
  }

  private void startSubscription(Projection projection) {
    SubscriptionOptions options =
        tuning
            .apply(
                SubscriptionOptions.named(subscriptionName(projection.name()))
                    .batchSize(BATCH)
                    .batchInterval(projection.batchInterval()))
            .filter(projection.filter());
    RebuildWatch rebuild = new RebuildWatch(projection.name());
    running.put(
        projection.name(),
        subscriptions.startTransactional(
            options,
            TransactionalEventHandler.ofWrites(
                (events, transaction) -> {
                  rebuild.loadIfGoneBack(events, transaction); // before the writes take an id
                  SqlWrites writes = projection.writesFor(events, transaction);
                  if (writes == null) {
                    projection.projectBatch(events, transaction);
                  }
                  rebuild.finishIfReached(events, transaction);
                  return writes == null ? SqlWrites.none() : writes;
                })));
  }

  /**
   * Marks a rebuild finished in the transaction that projects its target event. It asks the table
   * for the first event and whenever the events go back (a rebuild or replay moved the checkpoint,
   * on this node or another, or a rolled-back batch is delivered again), not for every event, and
   * before the batch's writes: a projection's statements after its first write run while its
   * transaction holds a transaction id, and with it every global reader.
   */
  private final class RebuildWatch {
    private final String name;
    private Position lastSeen;
    private boolean rebuilding;
    private Position target;
    private boolean targetByIdOnly; // a rebuild started before V9 stored no transaction id

    RebuildWatch(String name) {
      this.name = name;
    }

    /** Reads the rebuild state for the first batch and whenever the events go back. */
    void loadIfGoneBack(List<RecordedEvent> events, Connection c) throws SQLException {
      if (lastSeen == null || events.get(0).position().compareTo(lastSeen) <= 0) {
        load(c);
      }
    }

    void finishIfReached(List<RecordedEvent> events, Connection c) throws SQLException {
      lastSeen = events.get(events.size() - 1).position();
      if (rebuilding && reached(lastSeen)) {
        finishRebuildIfReached(name, lastSeen, c);
        rebuilding = false;
      }
    }

    private boolean reached(Position position) {
      return targetByIdOnly
          ? position.eventId() >= target.eventId()
          : position.compareTo(target) >= 0;
    }

    private void load(Connection c) throws SQLException {
      try (PreparedStatement select =
          c.prepareStatement(
              """
              SELECT state, rebuild_target_transaction_id::text, rebuild_target_event_id
                FROM %s.projections WHERE name = ?
              """
                  .formatted(store.schema()))) {
        select.setString(1, name);
        try (ResultSet row = select.executeQuery()) {
          rebuilding =
              row.next()
                  && ProjectionState.fromStored(row.getString(1)) == ProjectionState.REBUILDING;
          if (rebuilding) {
            String transactionId = row.getString(2);
            targetByIdOnly = transactionId == null;
            target = Position.of(targetByIdOnly ? "0" : transactionId, row.getLong(3));
          }
        }
      }
    }
  }

  static String subscriptionName(String projection) {
    return "projection-" + projection;
  }

  /**
   * Empties the read model and replays every event into it, in the background. The read model is
   * emptied in the same transaction that moves the checkpoint back to the start.
   */
  public synchronized void rebuild(String name) {
    Projection projection = projection(name);
    Position target = store.headPosition(projection.filter());
    stop(name);
    Jdbc.inTransaction(
        store.dataSource(),
        "rebuild " + name,
        c -> {
          projection.reset(c);
          subscriptions.resetCheckpoint(c, subscriptionName(name), Position.START);
          markRebuildStarted(c, name, target);
          if (target.equals(Position.START)) {
            markRebuildFinished(c, name); // nothing to replay
          }
          return null;
        });
    startSubscription(projection);
  }

  /** Replays from a position onwards without emptying the read model (e.g. after a fix). */
  public synchronized void replayFrom(String name, Position after) {
    Projection projection = projection(name);
    stop(name);
    subscriptions.resetCheckpoint(subscriptionName(name), after);
    startSubscription(projection);
  }

  /** What a replay from {@code after} would process, without doing it. */
  public ReplayPlan dryRun(String name, Position after) {
    Projection projection = projection(name);
    Position upTo = store.headPosition(projection.filter());
    long count = 0;
    Position cursor = after;
    while (cursor.compareTo(upTo) < 0) {
      var page = store.readAll(cursor, projection.filter(), 5_000);
      for (RecordedEvent event : page.events()) {
        if (event.position().compareTo(upTo) <= 0) {
          count++;
        }
      }
      if (page.endOfLog()) {
        break; // a filtered page may be short, even empty, before the end: only this ends it
      }
      cursor = page.next();
    }
    return new ReplayPlan(name, after, upTo, count);
  }

  public List<ProjectionStatus> statuses() {
    return statuses(subscriptions.list());
  }

  /** The statuses, given the subscriptions' statuses the caller already read. */
  public List<ProjectionStatus> statuses(List<SubscriptionStatus> subscriptionStatuses) {
    Map<String, SubscriptionStatus> bySubscription = new LinkedHashMap<>();
    subscriptionStatuses.forEach(s -> bySubscription.put(s.name(), s));
    return Jdbc.withConnection(
        store.dataSource(),
        "projection statuses",
        c -> {
          try (PreparedStatement select =
                  c.prepareStatement(
                      """
                      SELECT name, state, rebuild_started_at, rebuild_duration_ms,
                             rebuild_target_event_id
                        FROM %s.projections ORDER BY name
                      """
                          .formatted(store.schema()));
              ResultSet rows = select.executeQuery()) {
            List<ProjectionStatus> statuses = new ArrayList<>();
            while (rows.next()) {
              String name = rows.getString(1);
              SubscriptionStatus subscription = bySubscription.get(subscriptionName(name));
              Position position = subscription == null ? Position.START : subscription.position();
              ProjectionState state = ProjectionState.fromStored(rows.getString(2));
              long target = rows.getLong(5);
              Optional<Double> progress =
                  state == ProjectionState.REBUILDING && target > 0
                      ? Optional.of(Math.min(1.0, (double) position.eventId() / target))
                      : Optional.empty();
              Long duration = rows.getObject(4, Long.class);
              statuses.add(
                  new ProjectionStatus(
                      name,
                      state,
                      position,
                      subscription == null ? 0 : subscription.lag(),
                      subscription == null ? Optional.empty() : subscription.lastHandledAt(),
                      Optional.ofNullable(rows.getObject(3, OffsetDateTime.class))
                          .map(OffsetDateTime::toInstant),
                      Optional.ofNullable(duration).map(Duration::ofMillis),
                      progress));
            }
            return statuses;
          }
        });
  }

  public ProjectionStatus status(String name) {
    projection(name);
    return statuses().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
  }

  public boolean isRegistered(String name) {
    return projections.containsKey(name);
  }

  /** Waits until the projection has handled everything up to {@code position}. */
  public boolean awaitPosition(String name, Position position, Duration timeout)
      throws InterruptedException {
    Subscription subscription;
    synchronized (this) {
      projection(name);
      subscription = running.get(name);
    }
    return subscription != null && subscription.awaitPosition(position, timeout);
  }

  private void stop(String name) {
    Subscription subscription = running.remove(name);
    if (subscription != null) {
      subscription.stop();
    }
  }

  private Projection projection(String name) {
    Projection projection = projections.get(name);
    if (projection == null) {
      throw new UnknownProjectionException(name);
    }
    return projection;
  }

  private void markRebuildStarted(Connection c, String name, Position target) throws SQLException {
    try (PreparedStatement update =
        c.prepareStatement(
            """
            UPDATE %s.projections
               SET state = 'rebuilding', rebuild_started_at = now(), rebuild_finished_at = NULL,
                   rebuild_target_transaction_id = ?::text::xid8, rebuild_target_event_id = ?,
                   updated_at = now()
             WHERE name = ?
            """
                .formatted(store.schema()))) {
      update.setString(1, target.transactionIdText());
      update.setLong(2, target.eventId());
      update.setString(3, name);
      update.executeUpdate();
    }
  }

  /** In the projecting transaction: once the rebuild reached its target, it is done. */
  private void finishRebuildIfReached(String name, Position reached, Connection c)
      throws SQLException {
    try (PreparedStatement update =
        c.prepareStatement(
            """
            UPDATE %s.projections
               SET state = 'running', rebuild_finished_at = now(),
                   rebuild_duration_ms =
                       (extract(epoch FROM now() - rebuild_started_at) * 1000)::bigint,
                   updated_at = now()
             WHERE name = ? AND state = 'rebuilding'
               AND CASE WHEN rebuild_target_transaction_id IS NULL
                        THEN rebuild_target_event_id <= ?
                        ELSE (rebuild_target_transaction_id, rebuild_target_event_id)
                             <= (?::text::xid8, ?) END
            """
                .formatted(store.schema()))) {
      update.setString(1, name);
      update.setLong(2, reached.eventId());
      update.setString(3, reached.transactionIdText());
      update.setLong(4, reached.eventId());
      update.executeUpdate();
    }
  }

  private void markRebuildFinished(Connection c, String name) throws SQLException {
    try (PreparedStatement update =
        c.prepareStatement(
            """
            UPDATE %s.projections
               SET state = 'running', rebuild_finished_at = now(), rebuild_duration_ms = 0
             WHERE name = ?
            """
                .formatted(store.schema()))) {
      update.setString(1, name);
      update.executeUpdate();
    }
  }

  /** Stops every projection's subscription; their state stays as stored. */
  @Override
  public synchronized void close() {
    new ArrayList<>(running.keySet()).forEach(this::stop);
    Jdbc.withConnection(
        store.dataSource(),
        "mark projections stopped",
        c -> {
          try (PreparedStatement update =
              c.prepareStatement(
                  "UPDATE %s.projections SET state = 'stopped' WHERE state = 'running' AND name = ANY(?)"
                      .formatted(store.schema()))) {
            update.setArray(1, c.createArrayOf("text", projections.keySet().toArray()));
            return update.executeUpdate();
          }
        });
  }
}
