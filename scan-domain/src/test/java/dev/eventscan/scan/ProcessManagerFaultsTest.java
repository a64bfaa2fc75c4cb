package dev.eventscan.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.subscription.ParkedFailure;
import dev.eventscan.eventstore.subscription.SubscriptionState;
import dev.eventscan.scan.lifecycle.ScanEvent;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import dev.eventscan.scan.process.ProcessSettings;
import dev.eventscan.scan.process.ScanProcessManager;
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
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

/** The process manager under faults: every scan finishes, whatever failed on the way. */
@ExtendWith(PostgresExtension.class)
class ProcessManagerFaultsTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Duration HOUR = Duration.ofHours(1);
  private static final ProcessSettings PROCESS =
      new ProcessSettings(2, Duration.ofSeconds(5), Duration.ofMillis(10), Duration.ofMillis(50));
  private static EventStore store;
  private static DataSource dataSource;
  private static TestDatabase database;
  private final ScriptedScanner scripted = new ScriptedScanner();
  private final TestModules modules = new TestModules();

  @BeforeAll
  static void createStore(DataSource pooled, TestDatabase testDatabase) {
    dataSource = pooled;
    database = testDatabase;
    store = EventStore.builder(pooled).build();
  }

  @AfterEach
  void stopModules() {
    modules.close();
  }

  private ScanModule start(ScriptedScanner scanner, ProcessSettings process) {
    return modules.start(store, Map.of("scripted", scanner), "scripted", process);
  }

  private static void awaitStatus(ScanModule module, String scanId, String status) {
    Eventually.until(
        "scan " + scanId + " " + status,
        WAIT,
        () -> TestModules.status(module, scanId).equals(status));
  }

  @Test
  void a_step_timeout_counts_from_when_the_step_starts_not_from_when_it_was_queued() {
    scripted.latency = Duration.ofMillis(100);
    ScanModule module =
        start(
            scripted,
            new ProcessSettings(
                1, Duration.ofMillis(400), Duration.ofMillis(10), Duration.ofMillis(50)));
    List<String> scanIds = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      scanIds.add(module.requestScan("queued" + i + ".example", "scripted", 0));
    }

    scanIds.forEach(scanId -> awaitStatus(module, scanId, "COMPLETED"));

    for (String scanId : scanIds) {
      assertThat(module.events(scanId).stream().map(module.scans()::deserialize))
          .noneMatch(ScanEvent.StepAttemptFailed.class::isInstance);
    }
    Eventually.until(
        "nothing queued or in flight",
        WAIT,
        () -> module.processManager().queued() == 0 && module.processManager().inFlight() == 0);
  }

  @Test
  void a_step_whose_start_or_outcome_could_not_be_recorded_still_finishes() {
    RecordingFaults faults = RecordingFaults.install(dataSource, store.schema());
    try {
      scripted.gate = new CountDownLatch(1);
      ScanModule module = start(scripted, PROCESS);
      faults.fail(1.0, 1, "DomainDiscoveryStarted");
      String scanId = module.requestScan("unrecorded.example", "scripted", 3);

      Eventually.until("the start failed, then ran", WAIT, () -> scripted.calls.get() == 1);
      assertThat(faults.injected()).isEqualTo(1);
      faults.fail(1.0, 1, "DomainsDiscovered");
      scripted.gate.countDown();
      Eventually.until("the outcome failed", WAIT, () -> faults.injected() == 1);

      awaitStatus(module, scanId, "COMPLETED");
      assertThat(scripted.calls.get()).as("domain discovery ran again").isGreaterThan(2);
    } finally {
      faults.stop();
    }
  }

  @Test
  void with_one_segment_only_the_node_holding_the_process_manager_lock_drives_scans() {
    scripted.gate = new CountDownLatch(1);
    ScanModule holder = start(scripted, PROCESS.segments(1));
    String scanId = holder.requestScan("holder.example", "scripted", 3);
    Eventually.until("the holder runs the scan", WAIT, () -> scripted.calls.get() > 0);

    ScriptedScanner standbyScanner = new ScriptedScanner();
    start(standbyScanner, PROCESS.segments(1));
    scripted.gate.countDown();

    awaitStatus(holder, scanId, "COMPLETED");
    assertThat(standbyScanner.calls.get()).as("scanner calls on the standby node").isZero();
  }

  @Test
  void the_process_manager_holds_no_transaction_id_while_it_loads_a_scan() throws Exception {
    ScanModule module = start(scripted, PROCESS);
    String scanId;
    try (Connection barrier = holdBarrier();
        Connection locker = database.openUnpooledConnection()) {
      scanId = module.requestScan("xid.example", "scripted", 3);
      locker.setAutoCommit(false);
      execute(locker, "LOCK TABLE " + store.schema() + ".streams IN ACCESS EXCLUSIVE MODE");
      barrier.commit(); // the process manager now sees the request and loads the scan: blocked

      Eventually.until("a scan load waits 2 s on the lock", WAIT, () -> longestLockWait() >= 2.0);
      // The lock itself takes an xid; nobody else may hold one while the load waits.
      assertThat(sessionsHoldingAnXidBesides(locker)).isEmpty();
      locker.rollback();
    }
    awaitStatus(module, scanId, "COMPLETED");
  }

  @Test
  void a_scan_that_could_not_be_loaded_for_a_while_is_driven_again_afterwards() throws Exception {
    ScanModule module = start(scripted, PROCESS);
    String scanId;
    try (Connection barrier = holdBarrier()) {
      scanId = module.requestScan("unreadable.example", "scripted", 3);
      // Reads of a stream marked deleted fail: loading the scan fails until this is undone.
      markStreamDeleted(scanId, true);
      barrier.commit();
    }
    awaitProcessManagerAtHead(module, "the process manager handled the request");

    markStreamDeleted(scanId, false);
    awaitStatus(module, scanId, "COMPLETED");
  }

  @Test
  void a_sweep_drives_at_most_a_page_of_unfinished_scans_and_the_next_sweep_goes_on_after_it() {
    int page = ScanProcessManager.SWEEP_PAGE;
    ScanModule module =
        start(
            scripted,
            new ProcessSettings(
                2, Duration.ofSeconds(5), Duration.ofMillis(10), Duration.ofMillis(50), 8, HOUR));
    // Every segment, not just one: a sweep drives only the scans of the segments this node owns.
    Eventually.until(
        "the node drives every segment",
        WAIT,
        () ->
            module.subscriptions().list().stream()
                    .filter(s -> s.subscription().equals(ScanModule.PROCESS_MANAGER))
                    .filter(s -> s.state() == SubscriptionState.RUNNING && s.owner().isPresent())
                    .count()
                == ProcessSettings.DEFAULT_SEGMENTS);
    // And past the earlier tests' events: catching up queues a drive for each of their scans, and
    // the drive queue is bounded (1,000), so a sweep meanwhile could not queue all of its page.
    awaitProcessManagerAtHead(module, "the process manager caught up");
    String table = TestModules.SCHEMA + ".scan_in_flight";
    // Older than any real scan, and never driven to an end: their streams do not exist.
    RecordingFaults.execute(
        dataSource,
        ("INSERT INTO %s SELECT 'stalled-' || g, now() - interval '1 hour' + g * interval '1 ms'"
                + " FROM generate_series(1, %d) AS g")
            .formatted(table, 3 * page));
    try {
      assertThat(module.processManager().sweep()).isEqualTo(page);
      assertThat(module.processManager().sweep()).as("the next page").isEqualTo(page);

      String scanId = module.requestScan("swept.example", "scripted", 3);
      awaitStatus(module, scanId, "COMPLETED");
    } finally {
      RecordingFaults.execute(
          dataSource, "DELETE FROM " + table + " WHERE scan_id LIKE 'stalled-%'");
    }
  }

  @Test
  void a_parked_process_manager_event_does_not_orphan_its_scan() {
    ScanModule module = start(scripted, PROCESS);
    String table = TestModules.SCHEMA + ".scan_in_flight";
    RecordingFaults.execute(
        dataSource, "ALTER TABLE " + table + " ADD CONSTRAINT refused CHECK (false) NOT VALID");
    String scanId;
    try {
      scanId = module.requestScan("parked.example", "scripted", 3);
      Eventually.until(
          "the request is parked", WAIT, () -> !openFailures(module, scanId).isEmpty());
    } finally {
      RecordingFaults.execute(dataSource, "ALTER TABLE " + table + " DROP CONSTRAINT refused");
    }

    awaitStatus(module, scanId, "COMPLETED");
    Eventually.until(
        "the parked event is settled", WAIT, () -> openFailures(module, scanId).isEmpty());
  }

  private static List<ParkedFailure> openFailures(ScanModule module, String scanId) {
    return module.subscriptions().failures(ParkedFailure.OPEN, 100).stream()
        .filter(f -> f.subscription().startsWith(ScanModule.PROCESS_MANAGER))
        .filter(f -> f.streamId().equals(ScanEventTypes.streamId(scanId)))
        .toList();
  }

  /** Appends made while the returned transaction is open stay invisible to subscriptions. */
  private static Connection holdBarrier() throws SQLException {
    Connection connection = database.openUnpooledConnection();
    connection.setAutoCommit(false);
    execute(connection, "SELECT pg_current_xact_id()");
    return connection;
  }

  private static void markStreamDeleted(String scanId, boolean deleted) {
    RecordingFaults.execute(
        dataSource,
        "UPDATE %s.streams SET deleted_at = %s WHERE stream_id = '%s'"
            .formatted(
                store.schema(), deleted ? "now()" : "NULL", ScanEventTypes.streamId(scanId)));
  }

  private static List<String> sessionsHoldingAnXidBesides(Connection excluded) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement select =
            c.prepareStatement(
                """
                SELECT state || ': ' || query FROM pg_stat_activity
                 WHERE backend_xid IS NOT NULL AND datname = current_database() AND pid <> ?
                """)) {
      select.setInt(1, excluded.unwrap(PGConnection.class).getBackendPID());
      List<String> sessions = new ArrayList<>();
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          sessions.add(rows.getString(1));
        }
      }
      return sessions;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static double longestLockWait() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement select =
            c.prepareStatement(
                """
                SELECT coalesce(max(extract(epoch FROM now() - query_start)), 0)
                  FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND datname = current_database()
                """);
        ResultSet row = select.executeQuery()) {
      row.next();
      return row.getDouble(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void execute(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  /** Until the process manager's subscription has reached the log's head as of now. */
  private static void awaitProcessManagerAtHead(ScanModule module, String what) {
    Position head = store.headPosition();
    Eventually.until(
        what,
        WAIT,
        () ->
            module
                .subscriptions()
                .status(ScanModule.PROCESS_MANAGER)
                .map(status -> status.position().compareTo(head) >= 0)
                .orElse(false)); // not started yet
  }
}
