package dev.eventscan.eventstore.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.StreamSegment;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A subscription split into segments and shared by several nodes (each its own pool and its own
 * {@link EventStore}, as separate processes would be), while connections are terminated and a node
 * dies: every event handled exactly once, each stream in order, no segment handled by two nodes at
 * once, work spread over the live nodes and taken over from a dead one.
 */
@ExtendWith(PostgresExtension.class)
class PartitionedSubscriptionTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int SEGMENTS = 8;
  private static TestDatabase database;
  private final List<Node> nodes = new ArrayList<>();

  @BeforeAll
  static void createTable(TestDatabase testDatabase) {
    database = testDatabase;
    EventStore.builder(testDatabase.dataSource()).build().close(); // migrates
  }

  @AfterEach
  void stopNodes() {
    nodes.forEach(Node::close);
  }

  /** One service process: its own pool, store and subscriptions. */
  private final class Node implements AutoCloseable {
    final HikariDataSource pool;
    final EventStore store;
    Subscription subscription;

    Node() {
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(database.jdbcUrl());
      config.setUsername(database.user());
      config.setPassword(database.password());
      config.setMaximumPoolSize(SEGMENTS + 4);
      config.setConnectionTimeout(2_000);
      pool = new HikariDataSource(config);
      store = EventStore.builder(pool).migrate(false).build();
      nodes.add(this);
    }

    String id() {
      return store.subscriptions().node();
    }

    /** A crash: every connection gone at once, nothing let go politely. */
    void die() {
      pool.close();
    }

    @Override
    public void close() {
      try {
        long t0 = System.nanoTime();
        if (subscription != null) {
          subscription.stop();
        }
        long t1 = System.nanoTime();
        store.close();
        System.out.printf(
            "CLOSE stop=%d ms store=%d ms%n",
            (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000);
      } finally {
        pool.close();
      }
    }
  }

  /** Handles into a table: a duplicate or a version out of order fails the transaction loudly. */
  private static final class Recorder implements TransactionalEventHandler {
    final String table;
    final Map<Integer, AtomicInteger> inSegment = new ConcurrentHashMap<>();
    final AtomicBoolean twoOwnersAtOnce = new AtomicBoolean();

    Recorder(String table) {
      this.table = table;
    }

    @Override
    public void handle(dev.eventscan.eventstore.stream.RecordedEvent event, Connection c)
        throws Exception {
      AtomicInteger active =
          inSegment.computeIfAbsent(
              StreamSegment.indexOf(event.streamId(), SEGMENTS), s -> new AtomicInteger());
      if (active.incrementAndGet() > 1) {
        twoOwnersAtOnce.set(true);
      }
      try {
        int inserted =
            Jdbc.update(
                c,
                ("INSERT INTO %1$s (event_id, stream_id, version) SELECT ?, ?, ?"
                        + " WHERE ? = 1 OR EXISTS (SELECT 1 FROM %1$s WHERE stream_id = ?"
                        + " AND version = ? - 1)")
                    .formatted(table),
                s -> {
                  s.setObject(1, event.eventId());
                  s.setString(2, event.streamId());
                  s.setLong(3, event.streamVersion());
                  s.setLong(4, event.streamVersion());
                  s.setString(5, event.streamId());
                  s.setLong(6, event.streamVersion());
                });
        if (inserted != 1) {
          throw new IllegalStateException(
              "version " + event.streamVersion() + " of " + event.streamId() + " before its own");
        }
      } finally {
        active.decrementAndGet();
      }
    }
  }

  private static String createTable() {
    String table = "handled_" + UUID.randomUUID().toString().replace("-", "");
    Jdbc.withConnection(
        database.dataSource(),
        "create table",
        c ->
            Jdbc.update(
                c,
                "CREATE TABLE "
                    + table
                    + " (event_id uuid PRIMARY KEY, stream_id text, version bigint,"
                    + " UNIQUE (stream_id, version))",
                Jdbc.Parameters.NONE));
    return table;
  }

  private static SubscriptionOptions options(String name, String category) {
    return SubscriptionOptions.named(name)
        .filter(EventFilter.categories(category))
        .segments(SEGMENTS)
        .batchSize(50)
        .pollInterval(Duration.ofMillis(100))
        .standbyInterval(Duration.ofMillis(200));
  }

  /** Segment index -> owner, from the checkpoints' rows. */
  private static Map<Integer, String> owners(EventStore store, String name) {
    Map<Integer, String> owners = new HashMap<>();
    for (SubscriptionStatus status : store.subscriptions().list()) {
      if (status.name().startsWith(name + "#")
          && status.state() == SubscriptionState.RUNNING
          && status.owner().isPresent()) {
        owners.put(
            Integer.parseInt(status.name().substring(name.length() + 1)), status.owner().get());
      }
    }
    return owners;
  }

  private static long count(String table) {
    return Jdbc.withConnection(
            database.dataSource(),
            "count",
            c ->
                Jdbc.query(
                    c, "SELECT count(*) FROM " + table, Jdbc.Parameters.NONE, r -> r.getLong(1)))
        .get(0);
  }

  @Test
  void segments_are_shared_by_live_nodes_and_taken_over_from_a_dead_one_under_faults()
      throws Exception {
    String category = "part" + UUID.randomUUID().toString().substring(0, 8);
    String name = "partitioned-" + category;
    String table = createTable();
    Recorder recorder = new Recorder(table);
    Node first = new Node();
    Node second = new Node();
    Node third = new Node();
    for (Node node : List.of(first, second, third)) {
      node.subscription =
          node.store.subscriptions().startTransactional(options(name, category), recorder);
    }

    // Writers append to 40 streams while a nemesis terminates subscription connections.
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicInteger appended = new AtomicInteger();
    Thread writer =
        new Thread(
            () -> {
              Random random = new Random(7);
              Map<Integer, Long> versions = new HashMap<>();
              while (writing.get()) {
                int stream = random.nextInt(40);
                long version = versions.getOrDefault(stream, 0L);
                first.store.append(
                    category + "-" + stream,
                    ExpectedVersion.exactly(version),
                    EventData.of("Happened", "{}"));
                versions.put(stream, version + 1);
                appended.incrementAndGet();
              }
            });
    writer.start();
    try (Connection killer = database.openUnpooledConnection();
        Statement statement = killer.createStatement()) {
      for (int round = 0; round < 5; round++) {
        Thread.sleep(400);
        statement.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                + " WHERE pid <> pg_backend_pid() AND (query LIKE '%pg_try_advisory_lock%' OR query LIKE 'LISTEN%')"
                + " ORDER BY random() LIMIT 2");
      }
    }

    // Spread: each of the three live nodes owns some segments.
    Await.until(
        "every segment running, on all three nodes",
        WAIT,
        () -> {
          Map<Integer, String> owners = owners(first.store, name);
          return owners.size() == SEGMENTS && Set.copyOf(owners.values()).size() == 3;
        });
    Map<String, Long> perNode =
        owners(first.store, name).values().stream()
            .collect(Collectors.groupingBy(owner -> owner, Collectors.counting()));
    assertThat(perNode.values()).allSatisfy(n -> assertThat(n).isBetween(2L, 3L));

    // A node dies: its segments are owned again, by the others, within the stated bound.
    long diedAt = System.nanoTime();
    String deadNode = third.id();
    third.die();
    Await.until(
        "segments of the dead node owned again",
        Duration.ofSeconds(30),
        () -> {
          Map<Integer, String> owners = owners(first.store, name);
          return owners.size() == SEGMENTS && !owners.containsValue(deadNode);
        });
    Duration takeover = Duration.ofNanos(System.nanoTime() - diedAt);
    System.out.println(
        "Segments of the dead node owned again after " + takeover.toMillis() + " ms");
    assertThat(takeover).isLessThan(Duration.ofSeconds(10));

    writing.set(false);
    writer.join();
    Position head = first.store.headPosition();
    assertThat(first.subscription.awaitPosition(head, WAIT)).isTrue();
    assertThat(count(table)).isEqualTo(appended.get());
    assertThat(recorder.twoOwnersAtOnce).isFalse();
    assertThat(first.store.subscriptions().failures(ParkedFailure.OPEN, 10)).isEmpty();

    // A node that joins later is given segments.
    Node late = new Node();
    late.subscription =
        late.store.subscriptions().startTransactional(options(name, category), recorder);
    Await.until(
        "the late node owns segments",
        WAIT,
        () -> owners(first.store, name).containsValue(late.id()));
  }

  @Test
  void plain_and_partitioned_checkpoints_of_one_name_are_never_mixed() {
    String name = "mixed-" + UUID.randomUUID();
    Node node = new Node();
    node.subscription = node.store.subscriptions().start(options(name, "x").segments(4), e -> {});
    Await.until("running", WAIT, () -> node.subscription.state() == SubscriptionState.RUNNING);
    node.subscription.stop();
    node.subscription = null;

    assertThatThrownBy(
            () -> node.store.subscriptions().start(options(name, "x").segments(8), e -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("4 segment(s)");
  }

  @Test
  void resegmenting_moves_a_stopped_subscription_without_skipping_an_event() throws Exception {
    String category = "reseg" + UUID.randomUUID().toString().substring(0, 8);
    String name = "resegmented-" + category;
    String table = createTable();
    Recorder recorder = new Recorder(table);
    Node node = new Node();
    appendSixtyEvents(node, category);
    node.subscription =
        node.store
            .subscriptions()
            .startTransactional(options(name, category).segments(1), recorder);
    assertThat(node.subscription.awaitPosition(node.store.headPosition(), WAIT)).isTrue();
    assertThatThrownBy(() -> node.store.subscriptions().resegment(name, 4))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is running");
    node.subscription.stop();

    node.store.subscriptions().resegment(name, 4);
    appendSixtyEvents(node, category);
    node.subscription =
        node.store
            .subscriptions()
            .startTransactional(options(name, category).segments(4), recorder);
    assertThat(node.subscription.awaitPosition(node.store.headPosition(), WAIT)).isTrue();
    assertThat(count(table)).isEqualTo(120);
    assertThat(node.store.subscriptions().status(name))
        .get()
        .satisfies(status -> assertThat(status.state()).isEqualTo(SubscriptionState.RUNNING));
  }

  private static void appendSixtyEvents(Node node, String category) {
    for (int i = 0; i < 60; i++) {
      node.store.append(category + "-" + (i % 12), ExpectedVersion.any(), EventData.of("E", "{}"));
    }
  }

  @Test
  void the_segment_of_a_stream_is_the_same_in_java_and_in_sql() {
    List<String> streams = new CopyOnWriteArrayList<>();
    for (int i = 0; i < 500; i++) {
      streams.add("s-" + i + "-" + UUID.randomUUID() + (i % 7 == 0 ? "-ünï" : ""));
    }
    List<Integer> inSql =
        Jdbc.withConnection(
            database.dataSource(),
            "hash",
            c ->
                Jdbc.query(
                    c,
                    "SELECT "
                        + StreamSegment.SQL_HASH
                        + " % 13 FROM unnest(?::text[]) WITH ORDINALITY AS t(stream_id, n) ORDER BY n",
                    s -> s.setArray(1, c.createArrayOf("text", streams.toArray())),
                    r -> r.getInt(1)));
    assertThat(inSql)
        .containsExactlyElementsOf(
            streams.stream().map(s -> StreamSegment.indexOf(s, 13)).toList());
  }
}
