package dev.eventscan.eventstore;

/**
 * How appends wake up other processes' live subscriptions ({@code LISTEN/NOTIFY} on channel {@code
 * <schema>_appended}; one listening connection per store). The appending store's own subscriptions
 * and live feed are woken at the commit in every mode. Notifications are only hints: subscriptions
 * also poll, so every mode delivers every event; the modes differ in latency and in what they cost
 * appends.
 */
public enum NotifyMode {
  /**
   * After the append committed, a background thread sends one NOTIFY for all appends of the last
   * few milliseconds (default). Appends stay one round trip and never wait on each other.
   */
  AFTER_COMMIT,
  /**
   * NOTIFY inside the append transaction. PostgreSQL serializes the commits of notifying
   * transactions on a global lock, which on our benchmark cut 8 concurrent writers to about a third
   * of their throughput; use only for low write rates.
   */
  IN_TRANSACTION,
  /** No notifications: other processes' subscriptions rely on polling alone. */
  NONE
}
