package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.EventStoreStorageException;
import dev.eventscan.eventstore.jdbc.Jdbc;
import java.sql.SQLException;
import java.sql.SQLTransientException;

/** Tells a failure of the database (wait and retry) from a failure of a handler (park). */
final class StorageFailures {
  private StorageFailures() {}

  /**
   * True if anything in the cause chain says PostgreSQL or the connection failed, or the failure is
   * one that goes away by itself (a pool timeout, a serialization failure, a deadlock).
   */
  static boolean isTransient(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof EventStoreStorageException || t instanceof SQLTransientException) {
        return true;
      }
      if (t instanceof SQLException sql && isTransientState(sql)) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static boolean isTransientState(SQLException e) {
    String state = e.getSQLState();
    return Jdbc.isConnectionFailure(e)
        || (state != null
            && (state.startsWith("53") // insufficient resources: too many connections, disk full
                || state.equals("40001") // serialization failure
                || state.equals("40P01") // deadlock
                || state.equals("55P03") // lock not available
                || state.equals("57014"))); // query cancelled (statement timeout)
  }
}
