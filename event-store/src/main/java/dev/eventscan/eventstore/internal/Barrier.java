package dev.eventscan.eventstore.internal;

/**
 * The transaction-id barrier that every global read stops at: events of transactions older than the
 * oldest one still running. A reader never passes an event that a transaction still open could put
 * before its position.
 */
public final class Barrier {
  /** The barrier, in SQL: the oldest transaction id still running in the statement's snapshot. */
  public static final String SQL = "pg_snapshot_xmin(pg_current_snapshot())";

  private Barrier() {}

  /**
   * SQL for: committed events of {@code schema} wait at or above the barrier (an older transaction
   * still runs, and its commit, which lets them through, sends no notification). As the newest
   * visible event, read from the end of the global-order index: "any event at or above" let the
   * planner guess a third of the log and scan the table for one (10 ms at 10,000 events).
   */
  public static String eventsHeldBack(String schema) {
    return "coalesce((SELECT max(transaction_id) FROM %s.events) >= %s, false)"
        .formatted(schema, SQL);
  }
}
