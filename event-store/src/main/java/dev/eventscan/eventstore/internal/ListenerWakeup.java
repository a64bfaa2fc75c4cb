package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.EventStoreException;
import dev.eventscan.eventstore.jdbc.Jdbc;
import java.sql.PreparedStatement;
import javax.sql.DataSource;

/**
 * Wakes threads blocked waiting for a notification on the store's channel (pgjdbc's wait ignores
 * interrupts), so that stopping them does not take a whole poll interval.
 */
public final class ListenerWakeup {
  private ListenerWakeup() {}

  /** False if it could not be sent: the listeners then stop at their next poll. */
  public static boolean wake(DataSource dataSource, String channel) {
    try {
      Jdbc.withConnection(
          dataSource,
          "wake listeners",
          c -> {
            try (PreparedStatement notify = c.prepareStatement("SELECT pg_notify(?, 'stop')")) {
              notify.setString(1, channel);
              notify.executeQuery().close();
            }
            return null;
          });
      return true;
    } catch (EventStoreException e) {
      return false;
    }
  }
}
