package dev.eventscan.eventstore;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.insertFirstEvents;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.eventscan.eventstore.internal.AppendSignal;
import dev.eventscan.eventstore.stream.AppendOutcomeUnknownException;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.StreamAppend;
import dev.eventscan.eventstore.subscription.Await;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What callers learn when PostgreSQL drops a connection, and what the store leaves behind. */
@ExtendWith(PostgresExtension.class)
class ConnectionFailureTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static TestDatabase database;
  private static EventStore store;

  @BeforeAll
  static void createStore(TestDatabase testDatabase) {
    database = testDatabase;
    store = EventStore.builder(testDatabase.dataSource()).build();
  }

  @Test
  void a_single_append_whose_backend_is_terminated_is_reported_as_outcome_unknown()
      throws Exception {
    String streamId = newStreamId("killed");
    EventData payload = event("Happened", 1);
    try (Connection blocker = holdVersionOne(streamId)) {
      CompletableFuture<?> append =
          CompletableFuture.runAsync(
              () -> store.append(streamId, ExpectedVersion.noStream(), payload));
      terminateBlockedBackend();

      Throwable failure = failureOf(append);
      assertThat(failure).isInstanceOf(AppendOutcomeUnknownException.class);
      assertThat(failure.getCause()).isInstanceOf(SQLException.class);
      assertThat(((SQLException) failure.getCause()).getSQLState()).isEqualTo("57P01");
      blocker.rollback();
    }
    // The advice holds: the same event again is written once.
    store.append(streamId, ExpectedVersion.noStream(), payload);
    store.append(streamId, ExpectedVersion.noStream(), payload);
    assertThat(store.streamInfo(streamId).orElseThrow().version()).isEqualTo(1);
  }

  @Test
  void an_atomic_append_killed_before_its_commit_is_reported_as_not_written() throws Exception {
    String first = "a" + newStreamId("killed");
    String second = "b" + newStreamId("killed");
    try (Connection blocker = holdVersionOne(second)) {
      CompletableFuture<?> append =
          CompletableFuture.runAsync(
              () ->
                  store.appendAtomically(
                      List.of(
                          new StreamAppend(
                              first, ExpectedVersion.noStream(), List.of(event("A", 1))),
                          new StreamAppend(
                              second, ExpectedVersion.noStream(), List.of(event("B", 1))))));
      terminateBlockedBackend();

      Throwable failure = failureOf(append);
      assertThat(failure)
          .isInstanceOf(EventStoreStorageException.class)
          .isNotInstanceOf(AppendOutcomeUnknownException.class)
          .hasMessageContaining("57P01");
      blocker.rollback();
    }
    assertThat(store.streamInfo(first)).isEmpty();
  }

  @Test
  void closing_the_store_leaves_no_session_setting_on_the_pool_it_was_given() throws Exception {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(database.jdbcUrl());
    config.setUsername(database.user());
    config.setPassword(database.password());
    config.setMaximumPoolSize(2);
    config.setConnectionTimeout(2_000);
    try (HikariDataSource pool = new HikariDataSource(config);
        Connection listener = database.openUnpooledConnection()) {
      EventStore notifying = EventStore.builder(pool).migrate(false).build();
      // Listens as another store does (hints go out only while one listens).
      try (Statement listen = listener.createStatement()) {
        listen.execute("LISTEN " + notifying.notificationChannel());
      }
      try (PreparedStatement present =
          listener.prepareStatement(
              "SELECT pg_advisory_lock_shared(" + AppendSignal.PRESENCE_KEY + ")")) {
        present.setString(1, notifying.notificationChannel());
        present.execute();
      }
      org.postgresql.PGConnection pg = listener.unwrap(org.postgresql.PGConnection.class);
      List<Object> hints = new ArrayList<>();
      for (int i = 0; hints.isEmpty(); i++) {
        notifying.append(newStreamId("notified"), ExpectedVersion.noStream(), event("E", i));
        var received = pg.getNotifications(200);
        if (received != null) {
          hints.addAll(List.of(received));
        }
        assertThat(i).as("notifications sent").isLessThan(100);
      }
      notifying.close();

      List<Connection> pooled = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        pooled.add(pool.getConnection());
      }
      for (Connection connection : pooled) {
        try (Statement s = connection.createStatement();
            ResultSet row =
                s.executeQuery(
                    "SELECT source FROM pg_settings WHERE name = 'synchronous_commit'")) {
          row.next();
          assertThat(row.getString(1)).isNotEqualTo("session");
        }
        connection.close();
      }
    }
  }

  /** Inserts version 1 of the stream in a transaction left open, so appends there must wait. */
  private static Connection holdVersionOne(String streamId) throws SQLException {
    Connection blocker = database.openUnpooledConnection();
    blocker.setAutoCommit(false);
    insertFirstEvents(blocker, "Blocker", streamId);
    return blocker;
  }

  private static void terminateBlockedBackend() throws SQLException {
    try (Connection admin = database.openUnpooledConnection()) {
      Await.until("an append waits on the blocker", WAIT, () -> blockedBackend(admin) != 0);
      try (PreparedStatement kill = admin.prepareStatement("SELECT pg_terminate_backend(?)")) {
        kill.setInt(1, blockedBackend(admin));
        kill.executeQuery().close();
      }
    }
  }

  private static int blockedBackend(Connection admin) {
    try (Statement s = admin.createStatement();
        ResultSet row =
            s.executeQuery(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    + " AND datname = current_database() LIMIT 1")) {
      return row.next() ? row.getInt(1) : 0;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Throwable failureOf(CompletableFuture<?> append) throws Exception {
    assertThatThrownBy(() -> append.get(30, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class);
    try {
      append.get();
      throw new AssertionError("unreachable");
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }
}
