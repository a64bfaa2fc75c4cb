package dev.eventscan.eventstore.projection;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.subscription.SqlWrites;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

/**
 * A read model kept in the same database as the events. {@link #project} runs in the transaction
 * that also moves the projection's checkpoint (or, for an inline projection, in the append's own
 * transaction), so the read model never sees an event twice or misses one.
 */
public interface Projection {
  /** A stable name: it keys the checkpoint and the status row. */
  String name();

  /** The events this projection handles. */
  EventFilter filter();

  /** Applies one event to the read model through {@code transaction}; must not commit. */
  void project(RecordedEvent event, Connection transaction) throws Exception;

  /**
   * Applies consecutive events in one transaction; by default one at a time with {@link #project}.
   * Override it to aggregate and write once per batch: the transaction holds back every global
   * reader while it runs (see {@link
   * dev.eventscan.eventstore.subscription.TransactionalEventHandler#handleBatch}).
   */
  default void projectBatch(List<RecordedEvent> events, Connection transaction) throws Exception {
    SqlWrites writes = writesFor(events, transaction);
    if (writes != null) {
      writes.execute(transaction);
      return;
    }
    for (RecordedEvent event : events) {
      project(event, transaction);
    }
  }

  /**
   * The batch's writes, for a projection that leaves them to the library (reading through {@code
   * transaction} first if it must; reads take no transaction id). They go in one round trip with
   * the statement that moves the checkpoint and the COMMIT, so the projection's transaction holds
   * back global readers only while PostgreSQL runs them (see {@link
   * dev.eventscan.eventstore.subscription.TransactionalEventHandler#ofWrites}). Null, the default:
   * {@link #projectBatch} writes by itself. Inline, the writes run at once.
   */
  default SqlWrites writesFor(List<RecordedEvent> events, Connection transaction) throws Exception {
    return null;
  }

  /**
   * The least time between two of this projection's transactions once it has caught up (see {@link
   * dev.eventscan.eventstore.subscription.SubscriptionOptions#batchInterval}); zero, the default:
   * each event as soon as it is there. A read model that need not be live (counters, charts) saves
   * every global reader the waits behind its frequent small transactions.
   */
  default Duration batchInterval() {
    return Duration.ZERO;
  }

  /** Empties the read model, before a rebuild; runs in the rebuild's first transaction. */
  void reset(Connection transaction) throws SQLException;

  /** Empties a read model; runs in the caller's transaction. */
  @FunctionalInterface
  interface Reset {
    void reset(Connection transaction) throws SQLException;
  }

  /** A projection from functions: its name, the events it wants, how to apply one, how to reset. */
  static Projection of(
      String name,
      EventFilter filter,
      dev.eventscan.eventstore.subscription.TransactionalEventHandler project,
      Reset reset) {
    java.util.Objects.requireNonNull(name, "name");
    java.util.Objects.requireNonNull(filter, "filter");
    java.util.Objects.requireNonNull(project, "project");
    java.util.Objects.requireNonNull(reset, "reset");
    return new Projection() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public EventFilter filter() {
        return filter;
      }

      @Override
      public void project(RecordedEvent event, Connection transaction) throws Exception {
        project.handle(event, transaction);
      }

      @Override
      public void reset(Connection transaction) throws SQLException {
        reset.reset(transaction);
      }
    };
  }
}
