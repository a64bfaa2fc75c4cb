package dev.eventscan.eventstore.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * {@link dev.eventscan.eventstore.NotifyMode#IN_TRANSACTION}: the NOTIFY sent inside an append's
 * own transaction, delivered at its commit. It carries the store's own payload ({@link
 * AppendSignal#ownPayload()}): the store's readers were woken at the commit already, so its
 * listener drops the hint instead of waking them a second time; other processes wake on it.
 */
record InTransactionHint(String channel, String payload) {
  void send(Connection transaction) throws SQLException {
    try (PreparedStatement notify = transaction.prepareStatement("SELECT pg_notify(?, ?)")) {
      notify.setString(1, channel);
      notify.setString(2, payload);
      notify.executeQuery().close();
    }
  }
}
