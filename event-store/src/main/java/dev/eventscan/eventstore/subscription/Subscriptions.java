package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.StreamSegment;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import java.lang.management.ManagementFactory;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Starts named subscriptions on an {@link EventStore} and manages their checkpoints and parked
 * failures. Each subscription catches up from its checkpoint, then goes live; one process at a time
 * handles a given name, others stand by and take over when its connection dies.
 */
public final class Subscriptions {
  private final EventStore store;
  private final SubscriptionTables tables;
  private final String owner;
  private final Map<String, SubscriptionWorker> running = new ConcurrentHashMap<>();
  private final Map<String, PartitionedSubscription> partitioned = new ConcurrentHashMap<>();

  public Subscriptions(EventStore store) {
    this.store = store;
    this.tables = new SubscriptionTables(store.dataSource(), store.schema());
    this.owner =
        ManagementFactory.getRuntimeMXBean().getName()
            + "/"
            + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Delivers events at least once to {@code handler}. */
  public Subscription start(SubscriptionOptions options, EventHandler handler) {
    return startWorker(options, checkpoints -> new Delivery.Plain(handler, checkpoints));
  }

  /**
   * Delivers events inside the transaction that saves the checkpoint: exactly once for writes the
   * handler makes through the given connection.
   */
  public Subscription startTransactional(
      SubscriptionOptions options, TransactionalEventHandler handler) {
    return startWorker(options, checkpoints -> new Delivery.Transactional(handler, checkpoints));
  }

  private Subscription startWorker(
      SubscriptionOptions options, Function<CheckpointTransactions, Delivery> delivery) {
    String name = options.name();
    tables.requireSegmentCount(name, options.segments());
    if (options.segments() == 1) {
      SubscriptionWorker worker = worker(options, delivery, () -> true);
      worker.start();
      return worker;
    }
    return startPartitioned(options, delivery);
  }

  private synchronized Subscription startPartitioned(
      SubscriptionOptions options, Function<CheckpointTransactions, Delivery> delivery) {
    String name = options.name();
    if (partitioned.containsKey(name)) {
      throw alreadyStarted(name);
    }
    for (int index = 0; index < options.segments(); index++) {
      if (running.containsKey(SubscriptionOptions.checkpointName(name, index))) {
        throw alreadyStarted(name);
      }
    }
    SegmentMembership membership = new SegmentMembership(tables, name, owner, options.segments());
    SegmentGroup group = new SegmentGroup(store, tables, options, owner, membership, delivery);
    PartitionedSubscription subscription =
        new PartitionedSubscription(
            name, tables, membership, group, store::headPosition, () -> partitioned.remove(name));
    partitioned.put(name, subscription);
    membership.start();
    group.start();
    return subscription;
  }

  private SubscriptionWorker worker(
      SubscriptionOptions options,
      Function<CheckpointTransactions, Delivery> delivery,
      BooleanSupplier assignedHere) {
    String name = options.name();
    SubscriptionWorker worker =
        new SubscriptionWorker(
            store,
            tables,
            options,
            owner,
            delivery,
            assignedHere,
            stopped -> running.remove(name, stopped));
    if (running.putIfAbsent(name, worker) != null) {
      throw alreadyStarted(name);
    }
    return worker;
  }

  private static IllegalStateException alreadyStarted(String name) {
    return new IllegalStateException(
        "subscription " + name + " is already started in this process");
  }

  /** This process's id among the nodes: the owner shown on the checkpoints it holds. */
  public String node() {
    return owner;
  }

  /** Stops every subscription started through this object and waits for their threads. */
  public void stopAll() {
    for (Subscription group : List.copyOf(partitioned.values())) {
      group.stop();
    }
    for (SubscriptionWorker worker : List.copyOf(running.values())) {
      worker.stop();
    }
  }

  /**
   * Every checkpoint: each plain subscription's and each segment's of a partitioned one (with its
   * subscription, index and count), with its owner and estimated lag.
   */
  public List<SubscriptionStatus> list() {
    return Jdbc.withConnection(
        store.dataSource(),
        "list subscriptions",
        c -> {
          try (PreparedStatement select =
                  c.prepareStatement(
                      """
                  SELECT s.name, s.transaction_id::text AS tx, s.event_id, s.status, s.owner,
                         s.events_handled, s.last_handled_at, s.last_error,
                         greatest(0, coalesce((SELECT max(id) FROM %1$s.events), 0) - s.event_id),
                         s.segments
                    FROM %1$s.subscriptions s
                   ORDER BY s.name
                  """
                          .formatted(store.schema()));
              ResultSet rows = select.executeQuery()) {
            List<SubscriptionStatus> statuses = new ArrayList<>();
            while (rows.next()) {
              String name = rows.getString(1);
              int segments = rows.getInt(10);
              // A segment's checkpoint is named <subscription>#<index> (SubscriptionOptions).
              int hash = name.lastIndexOf('#');
              boolean partitioned = segments > 1 && hash > 0;
              statuses.add(
                  new SubscriptionStatus(
                      name,
                      partitioned ? name.substring(0, hash) : name,
                      partitioned ? Integer.parseInt(name.substring(hash + 1)) : 0,
                      segments,
                      Position.of(rows.getString(2), rows.getLong(3)),
                      SubscriptionState.fromStored(rows.getString(4)),
                      Optional.ofNullable(rows.getString(5)),
                      rows.getLong(6),
                      Optional.ofNullable(SubscriptionTables.instant(rows, 7)),
                      Optional.ofNullable(rows.getString(8)),
                      rows.getLong(9)));
            }
            return statuses;
          }
        });
  }

  /**
   * A subscription's status; for one with segments, all of them together: the lowest position, the
   * largest lag, the owners, and its state as {@link PartitionedSubscription#state()} sums it up.
   * The segments' own rows are in {@link #list()} as {@code name#index}.
   */
  public Optional<SubscriptionStatus> status(String name) {
    List<SubscriptionStatus> all = list();
    Optional<SubscriptionStatus> plain =
        all.stream().filter(s -> s.name().equals(name)).findFirst();
    if (plain.isPresent()) {
      return plain;
    }
    List<SubscriptionStatus> segments =
        all.stream().filter(s -> s.partitioned() && s.subscription().equals(name)).toList();
    return segments.isEmpty()
        ? Optional.empty()
        : Optional.of(SubscriptionStatus.ofSegments(name, segments));
  }

  /**
   * The live nodes running the partitioned subscription {@code name}: those whose heartbeat (every
   * second) was heard within the last 5 s, by node id. They share its segments: with N members,
   * each owns about K/N. Empty for a plain subscription, or one that runs nowhere.
   */
  public List<SubscriptionMember> members(String name) {
    return Jdbc.withConnection(
        store.dataSource(),
        "list subscription members",
        c -> tables.liveMembers(c, name, SegmentMembership.LIVE_WITHIN));
  }

  /**
   * Moves a subscription's checkpoints to {@code segments} segments (or back to one): each new
   * checkpoint starts at the lowest old one, so nothing is skipped, and events between that and an
   * old checkpoint are delivered again (handlers are at-least-once anyway; make them idempotent).
   * Open parked failures move to their stream's new segment. Stop the subscription on every node
   * first: this is refused while any of its checkpoints is held. Does nothing if the count is
   * already {@code segments}.
   */
  public void resegment(String name, int segments) {
    new StreamSegment(0, segments); // the same bounds as SubscriptionOptions.segments
    try {
      tables.requireSegmentCount(name, segments);
    } catch (IllegalStateException differentCount) {
      tables.resegment(name, segments);
    }
  }

  /** Parked failures, newest first; {@code status} null for all. */
  public List<ParkedFailure> failures(String status, int limit) {
    return tables.failures(status, limit);
  }

  /**
   * Delivers a parked event to its subscription's handler again, now. The subscription must be
   * started in this process. Returns the failure as it is afterwards: {@code retried} if the
   * handler succeeded, still {@code open} (one attempt more) if not.
   */
  public ParkedFailure retryFailure(long failureId) {
    ParkedFailure failure = failure(failureId);
    if (!ParkedFailure.OPEN.equals(failure.status())) {
      throw new FailureAlreadySettledException(failureId, failure.status());
    }
    SubscriptionWorker worker = running.get(failure.subscription());
    if (worker != null) {
      worker.redeliver(failureId);
      return failure(failureId);
    }
    for (PartitionedSubscription group : partitioned.values()) {
      Optional<SegmentGroup.Segment> segment = group.segmentNamed(failure.subscription());
      if (segment.isPresent()) {
        segment.get().redeliver(failureId);
        return failure(failureId);
      }
    }
    throw new UnknownFailureException(
        failureId,
        "belongs to subscription " + failure.subscription() + ", which is not running here");
  }

  /** Marks a parked failure as dealt with, without delivering it again. */
  public void resolveFailure(long failureId) {
    Jdbc.inTransaction(
        store.dataSource(),
        "resolve failure",
        c -> {
          tables.lockOpenFailure(c, failureId);
          tables.settleFailure(c, failureId, ParkedFailure.RESOLVED);
          return null;
        });
  }

  /** One parked failure, whatever its status. */
  public ParkedFailure failure(long failureId) {
    return Jdbc.withConnection(
            store.dataSource(), "read failure", c -> tables.failure(c, failureId, false))
        .orElseThrow(() -> new UnknownFailureException(failureId, "does not exist"));
  }

  /**
   * Moves a subscription's checkpoint, e.g. to replay from a position. Stop the subscription
   * everywhere first: a running one would refuse to commit past the moved checkpoint and reload it,
   * which is safe but wastes its batch.
   */
  public void resetCheckpoint(String name, Position position) {
    Jdbc.withConnection(
        store.dataSource(),
        "reset checkpoint",
        c -> {
          tables.reset(c, name, position);
          return null;
        });
  }

  /** Moves a checkpoint inside the caller's transaction, e.g. together with a read model reset. */
  public void resetCheckpoint(java.sql.Connection transaction, String name, Position position)
      throws java.sql.SQLException {
    tables.reset(transaction, name, position);
  }

  public EventStore store() {
    return store;
  }
}
