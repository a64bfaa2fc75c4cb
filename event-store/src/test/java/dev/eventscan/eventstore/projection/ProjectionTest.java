package dev.eventscan.eventstore.projection;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.insertFirstEvents;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.statistics.EventStatistics;
import dev.eventscan.eventstore.statistics.Overview;
import dev.eventscan.eventstore.statistics.StatisticsProjection;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.subscription.Await;
import dev.eventscan.eventstore.subscription.SqlWrites;
import dev.eventscan.eventstore.subscription.Subscriptions;
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
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class ProjectionTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static TestDatabase database;

  @BeforeAll
  static void setUp(TestDatabase testDatabase) {
    database = testDatabase;
  }

  /** Counts events per stream of one category into its own table. */
  record StreamCounts(String category) implements Projection {
    String table() {
      return "counts_" + category;
    }

    @Override
    public String name() {
      return "counts-" + category;
    }

    @Override
    public EventFilter filter() {
      return EventFilter.categories(category);
    }

    @Override
    public void project(RecordedEvent event, Connection tx) throws SQLException {
      if (event.type().equals("Poison")) {
        throw new IllegalStateException("poison");
      }
      try (PreparedStatement upsert =
          tx.prepareStatement(
              "INSERT INTO "
                  + table()
                  + " (stream_id, events, last_version) VALUES (?, 1, ?)"
                  + " ON CONFLICT (stream_id) DO UPDATE SET events = "
                  + table()
                  + ".events + 1,"
                  + " last_version = excluded.last_version")) {
        upsert.setString(1, event.streamId());
        upsert.setLong(2, event.streamVersion());
        upsert.executeUpdate();
      }
    }

    @Override
    public void reset(Connection tx) throws SQLException {
      try (Statement s = tx.createStatement()) {
        s.execute("TRUNCATE " + table());
      }
    }

    void create() throws SQLException {
      execute(
          "CREATE TABLE "
              + table()
              + " (stream_id text PRIMARY KEY, events int NOT NULL, last_version bigint NOT NULL)");
    }
  }

  /** {@link StreamCounts} as one statement per batch, left to the library to send. */
  record WrittenStreamCounts(StreamCounts counts) implements Projection {
    @Override
    public String name() {
      return counts.name();
    }

    @Override
    public EventFilter filter() {
      return counts.filter();
    }

    @Override
    public SqlWrites writesFor(List<RecordedEvent> events, Connection tx) {
      return SqlWrites.of(
          ("INSERT INTO %1$s (stream_id, events, last_version)"
                  + " SELECT s, count(*), max(v) FROM unnest(?::text[], ?::bigint[]) AS u(s, v)"
                  + " GROUP BY s ORDER BY s"
                  + " ON CONFLICT (stream_id) DO UPDATE SET events = %1$s.events + excluded.events,"
                  + " last_version = excluded.last_version")
              .formatted(counts.table()),
          events.stream().map(RecordedEvent::streamId).toArray(String[]::new),
          events.stream().map(RecordedEvent::streamVersion).toArray(Long[]::new));
    }

    @Override
    public void project(RecordedEvent event, Connection tx) throws SQLException {
      writesFor(List.of(event), tx).execute(tx);
    }

    @Override
    public void reset(Connection tx) throws SQLException {
      counts.reset(tx);
    }
  }

  @Test
  void a_projection_that_leaves_its_writes_to_the_library_projects_runs_rebuilds_and_inline()
      throws Exception {
    StreamCounts counts = new StreamCounts(category());
    counts.create();
    WrittenStreamCounts written = new WrittenStreamCounts(counts);
    EventStore store = store();
    Position last = appendMany(store, counts.category(), 3, 4);
    try (Projections projections = projections(subscriptions(store))) {
      projections.start(written);
      assertThat(projections.awaitPosition(written.name(), last, WAIT)).isTrue();
      assertThat(readModel(counts)).hasSize(3).allSatisfy(row -> assertThat(row).endsWith("=4"));

      projections.rebuild(written.name());
      Await.until(
          "rebuilt",
          WAIT,
          () -> projections.status(written.name()).state() == ProjectionState.RUNNING);
      assertThat(readModel(counts)).hasSize(3).allSatisfy(row -> assertThat(row).endsWith("=4"));
    }

    EventStore inline = EventStore.builder(database.dataSource()).inlineProjection(written).build();
    String streamId = newStreamId(counts.category());
    inline.append(streamId, ExpectedVersion.noStream(), event("E", 1), event("E", 2));
    assertThat(readModel(counts)).contains(streamId + "=2");
  }

  private static String category() {
    return "p" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static EventStore store() {
    return EventStore.builder(database.dataSource()).build();
  }

  private static Subscriptions subscriptions(EventStore store) {
    return new Subscriptions(store);
  }

  private static Projections projections(Subscriptions subscriptions) {
    return new Projections(
        subscriptions, options -> options.pollInterval(Duration.ofMillis(100)).batchSize(50));
  }

  @Test
  void a_rebuild_gives_the_same_read_model_as_live_projection() throws Exception {
    EventStore store = store();
    StreamCounts counts = new StreamCounts(category());
    counts.create();
    try (Projections projections = projections(subscriptions(store))) {
      projections.start(counts);
      Position last = appendMany(store, counts.category(), 12, 9);
      assertThat(projections.awaitPosition(counts.name(), last, WAIT)).isTrue();
      List<String> live = readModel(counts);

      projections.rebuild(counts.name());
      Await.until(
          "rebuild finished",
          WAIT,
          () ->
              projections.status(counts.name()).state() == ProjectionState.RUNNING
                  && projections.status(counts.name()).position().compareTo(last) >= 0);

      assertThat(readModel(counts)).isEqualTo(live).hasSize(12);
      ProjectionStatus status = projections.status(counts.name());
      assertThat(status.lastRebuildDuration()).isPresent();
      assertThat(status.lastRebuildStartedAt()).isPresent();
      assertThat(status.lag()).isGreaterThanOrEqualTo(0);
    }
  }

  /**
   * Event ids are not in the global order: a transaction that took its id first can commit its
   * event with a larger id. A rebuild targets the head position; comparing ids alone marked it
   * finished at that first event, with the rest of the log still to replay.
   */
  @Test
  void a_rebuild_is_not_finished_before_its_target_position_by_a_larger_event_id_earlier()
      throws Exception {
    String category = category();
    EventStore store = store();
    try (Connection older = database.openUnpooledConnection()) {
      older.setAutoCommit(false);
      try (Statement takeTransactionId = older.createStatement()) {
        takeTransactionId.execute("SELECT pg_current_xact_id()");
      }
      appendMany(store, category, 30, 1); // younger transactions, smaller ids
      // first in the global order, largest id
      insertFirstEvents(older, "First", newStreamId(category));
      older.commit();
    }
    CountDownLatch blocked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger seen = new AtomicInteger();
    AtomicBoolean rebuildStarted = new AtomicBoolean();
    Projection slow =
        Projection.of(
            "slow-" + category,
            EventFilter.categories(category),
            (event, tx) -> {
              if (rebuildStarted.get() && seen.incrementAndGet() == 20) {
                blocked.countDown();
                release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
              }
            },
            tx -> {});
    try (Projections projections = projections(subscriptions(store))) {
      projections.start(slow);
      Position head = store.headPosition(EventFilter.categories(category));
      assertThat(projections.awaitPosition(slow.name(), head, WAIT)).isTrue();

      rebuildStarted.set(true);
      projections.rebuild(slow.name());
      assertThat(blocked.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(projections.status(slow.name()).state())
          .as("events are still to replay")
          .isEqualTo(ProjectionState.REBUILDING);
      release.countDown();
      Await.until(
          "rebuild finished",
          WAIT,
          () -> projections.status(slow.name()).state() == ProjectionState.RUNNING);
      assertThat(projections.status(slow.name()).position()).isEqualTo(head);
    } finally {
      release.countDown();
    }
  }

  /**
   * The node running the projection learns of a rebuild another node started only from the events
   * going back to the start; it must still mark the rebuild finished.
   */
  @Test
  void a_rebuild_started_on_another_node_is_finished_by_the_node_running_the_projection()
      throws Exception {
    StreamCounts counts = new StreamCounts(category());
    counts.create();
    EventStore running = store();
    EventStore other = store();
    try (Projections runningNode = projections(subscriptions(running));
        Projections otherNode = projections(subscriptions(other))) {
      runningNode.start(counts);
      Position last = appendMany(running, counts.category(), 6, 9);
      assertThat(runningNode.awaitPosition(counts.name(), last, WAIT)).isTrue();
      otherNode.start(counts); // stands by: the running node holds the subscription

      otherNode.rebuild(counts.name());
      // An idle worker learns that its checkpoint moved when it next saves one.
      appendMany(running, counts.category(), 1, 1);
      Await.until(
          "rebuild finished",
          WAIT,
          () -> runningNode.status(counts.name()).state() == ProjectionState.RUNNING);
      assertThat(runningNode.status(counts.name()).lastRebuildDuration()).isPresent();
      assertThat(readModel(counts)).hasSize(7);
    }
  }

  @Test
  void a_dry_run_reports_what_a_replay_would_process_and_replay_from_reprocesses_it()
      throws Exception {
    EventStore store = store();
    StreamCounts counts = new StreamCounts(category());
    counts.create();
    try (Projections projections = projections(subscriptions(store))) {
      projections.start(counts);
      Position middle = appendMany(store, counts.category(), 1, 5);
      Position last = appendMany(store, counts.category(), 1, 3);
      assertThat(projections.awaitPosition(counts.name(), last, WAIT)).isTrue();

      ReplayPlan plan = projections.dryRun(counts.name(), middle);
      assertThat(plan.events()).isEqualTo(3);
      assertThat(plan.upTo()).isEqualTo(last);
      assertThat(projections.dryRun(counts.name(), Position.START).events()).isEqualTo(8);

      projections.replayFrom(counts.name(), middle);
      Await.until(
          "replayed",
          WAIT,
          () ->
              readModel(counts).stream().mapToInt(r -> Integer.parseInt(r.split("=")[1])).sum()
                  == 11);
      assertThatThrownBy(() -> projections.rebuild("nope"))
          .isInstanceOf(UnknownProjectionException.class);
    }
  }

  @Test
  void an_inline_projection_is_consistent_at_once_and_its_failure_rolls_the_append_back()
      throws Exception {
    StreamCounts counts = new StreamCounts(category());
    counts.create();
    EventStore store = EventStore.builder(database.dataSource()).inlineProjection(counts).build();
    String streamId = newStreamId(counts.category());

    store.append(streamId, ExpectedVersion.noStream(), event("E", 1), event("E", 2));
    assertThat(readModel(counts)).containsExactly(streamId + "=2");

    assertThatThrownBy(
            () ->
                store.append(
                    streamId,
                    ExpectedVersion.exactly(2),
                    event("E", 3),
                    dev.eventscan.eventstore.stream.EventData.of("Poison", "{}")))
        .isInstanceOf(InlineProjectionFailedException.class)
        .hasMessageContaining("rolled back");
    assertThat(store.streamInfo(streamId).orElseThrow().version()).isEqualTo(2);
    assertThat(readModel(counts)).containsExactly(streamId + "=2");
  }

  @Test
  void statistics_count_from_counters_and_recent_events_come_newest_first() throws Exception {
    EventStore store = store();
    Subscriptions subscriptions = subscriptions(store);
    try (Projections projections = projections(subscriptions)) {
      EventStatistics statistics = new EventStatistics(store, subscriptions, projections);
      long before = store.readAll(Position.START, 100_000).events().size();
      String category = category();
      Position last = appendMany(store, category, 3, 2);
      projections.start(new StatisticsProjection(store.schema()));
      assertThat(projections.awaitPosition(StatisticsProjection.NAME, last, WAIT)).isTrue();

      Overview overview = statistics.overview();
      assertThat(overview.totalEvents()).isEqualTo(before + 6);
      assertThat(overview.countedUpTo()).isEqualTo(store.headPosition());
      assertThat(overview.eventTypes()).anySatisfy(c -> assertThat(c.name()).isEqualTo("Counted"));
      assertThat(overview.projections())
          .extracting(ProjectionStatus::name)
          .contains(StatisticsProjection.NAME);
      var charts = statistics.statistics();
      assertThat(charts.byCategory())
          .anySatisfy(
              c -> {
                assertThat(c.name()).isEqualTo(category);
                assertThat(c.count()).isEqualTo(6);
              });
      List<RecordedEvent> recent = statistics.recentEvents(2);
      assertThat(recent).hasSize(2);
      assertThat(recent.get(0).position()).isEqualTo(last).isGreaterThan(recent.get(1).position());
    }
  }

  private static Position appendMany(EventStore store, String category, int streams, int each) {
    Position last = Position.START;
    for (int s = 0; s < streams; s++) {
      String streamId = newStreamId(category);
      for (int i = 0; i < each; i++) {
        last =
            store.append(streamId, ExpectedVersion.exactly(i), event("Counted", i)).lastPosition();
      }
    }
    return last;
  }

  private static List<String> readModel(StreamCounts counts) {
    try (Connection c = database.openUnpooledConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery("SELECT stream_id, events FROM " + counts.table() + " ORDER BY 1")) {
      List<String> rows = new ArrayList<>();
      while (r.next()) {
        rows.add(r.getString(1) + "=" + r.getInt(2));
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void execute(String sql) throws SQLException {
    try (Connection c = database.openUnpooledConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
