package dev.eventscan.bench;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingToken;

/**
 * A reader continuing from its position must not skip an event whose transaction took its place in
 * the log first but committed last. For each implementation: a reader reads up to a first event;
 * then writer A appends and stalls before its commit (a benchmark-only trigger on the
 * implementation's table waits for a lock this scenario holds, after the row took its id); writer B
 * appends and commits; the reader reads on; A commits; the reader reads on from where it was. The
 * BENCH line counts A's event as skipped (1) or not (0).
 *
 * <p>The limit pages by {@code id}, Message DB's global reader by {@code global_position}: both
 * checkpoint past A's id when they see B. Message DB's own category reader ({@code
 * get_category_messages}) is safe within one category, because its writers hold the category's lock
 * until they commit; the skip is across categories. Axon keeps A's id as a gap in its token and
 * fetches it later; ours does not read past an open transaction at all.
 */
final class OutOfOrderCommitScenario implements Scenario {
  /** The advisory lock the stalled writer's trigger waits for while this scenario holds it. */
  private static final long STALL_LOCK = 7_355_608L;

  private static final Duration WAIT = Duration.ofSeconds(30);

  @Override
  public String name() {
    return "out-of-order-commit";
  }

  /** One implementation: its writes and a reader that keeps its own checkpoint. */
  private interface Subject {
    /** Appends one event to a new stream and commits. */
    void write(String streamId) throws Exception;

    /** The streams of the events read after the checkpoint; moves the checkpoint past them. */
    List<String> readOn() throws Exception;
  }

  @Override
  public void prepare(BenchmarkDatabase database) throws Exception {
    try (Connection c = DriverManager.getConnection(database.jdbcUrl());
        Statement s = c.createStatement()) {
      s.execute(
          """
          CREATE FUNCTION public.bench_stall_commit() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            -- TG_ARGV[0]: the stream column; a stream named '<category>-late...' stalls here,
            -- after its row took its id, until the scenario lets go of the lock.
            IF to_jsonb(NEW) ->> TG_ARGV[0] LIKE '%%-late%%' THEN
              PERFORM pg_advisory_xact_lock_shared(%d);
            END IF;
            RETURN NULL;
          END $$
          """
              .formatted(STALL_LOCK));
    }
    database.axon(); // creates Axon's tables
    database.messageDb(); // installs Message DB where benchmarks/run fetched it
    stallInsertsInto(database, "event_store.events", "stream_id");
    stallInsertsInto(database, "limit_jdbc.events", "stream_id");
    stallInsertsInto(database, "public.domainevententry", "aggregateidentifier");
    if (database.messageDb().isPresent()) {
      stallInsertsInto(database, "message_store.messages", "stream_name");
    }
  }

  private static void stallInsertsInto(BenchmarkDatabase database, String table, String column)
      throws Exception {
    try (Connection c = DriverManager.getConnection(database.jdbcUrl());
        Statement s = c.createStatement()) {
      s.execute(
          """
          CREATE TRIGGER bench_stall_commit AFTER INSERT ON %s
             FOR EACH ROW EXECUTE FUNCTION public.bench_stall_commit('%s')
          """
              .formatted(table, column));
    }
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    Map<String, Subject> subjects = new LinkedHashMap<>();
    subjects.put("ours", ours(database.store()));
    subjects.put("limit", limit(database));
    subjects.put("axon", axon(database.axon()));
    if (database.messageDb().isPresent()) {
      subjects.put("messagedb", messageDbGlobal(database.messageDb().get()));
      subjects.put("messagedb_category", messageDbCategory(database.messageDb().get(), "invoice"));
    }
    StringBuilder line = new StringBuilder();
    int number = 0;
    for (Map.Entry<String, Subject> subject : subjects.entrySet()) {
      // Categories differ per subject (Message DB's tables are shared by two of them); the
      // category reader's late and early writer share one category, the others do not.
      number++;
      boolean sameCategory = subject.getKey().equals("messagedb_category");
      String lateCategory = sameCategory ? "invoice" : "account" + number;
      String earlyCategory = sameCategory ? "invoice" : "order" + number;
      int skipped =
          skipped(database, subject.getKey(), subject.getValue(), lateCategory, earlyCategory);
      line.append(line.isEmpty() ? "" : " ")
          .append(subject.getKey())
          .append("_skipped=")
          .append(skipped);
    }
    System.out.println(
        "# out-of-order-commit: 1 = the reader never saw the event whose transaction took its"
            + " position first and committed last; limit pages by id, messagedb by global_position"
            + " across categories, messagedb_category with get_category_messages in one category");
    return line.toString();
  }

  /** Runs the late-commit sequence against one implementation; 1 if its reader skipped A. */
  private static int skipped(
      BenchmarkDatabase database,
      String name,
      Subject subject,
      String lateCategory,
      String earlyCategory)
      throws Exception {
    String first = earlyCategory + "-" + UUID.randomUUID();
    String late = lateCategory + "-late" + UUID.randomUUID();
    String early = earlyCategory + "-" + UUID.randomUUID();
    List<String> seen = new ArrayList<>();

    subject.write(first);
    awaitCondition("the reader to see the first event", () -> readInto(subject, seen, first));

    ExecutorService writers = Executors.newFixedThreadPool(2);
    try (Connection control = DriverManager.getConnection(database.jdbcUrl())) {
      int waitingBefore = waitingLocks(control);
      advisoryLock(control, "pg_advisory_lock");
      Future<?> lateWrite = writers.submit(() -> write(subject, late));
      awaitCondition(
          "writer A to stall before its commit", () -> waitingLocks(control) > waitingBefore);
      Future<?> earlyWrite = writers.submit(() -> write(subject, early));
      // B commits, or (one Message DB category) waits for A's category lock.
      awaitCondition(
          "writer B to commit or wait",
          () -> earlyWrite.isDone() || waitingLocks(control) > waitingBefore + 1);
      boolean sawEarlyWhileLateOpen = readInto(subject, seen, early);
      System.out.printf(
          "# out-of-order-commit %s: while A was open the reader %s B%n",
          name, sawEarlyWhileLateOpen ? "read" : "held back");
      advisoryLock(control, "pg_advisory_unlock");
      lateWrite.get();
      earlyWrite.get();
    } finally {
      writers.shutdownNow();
    }
    awaitCondition("the reader to see writer B's event", () -> readInto(subject, seen, early));
    return seen.contains(late) ? 0 : 1;
  }

  private static Void write(Subject subject, String streamId) throws Exception {
    subject.write(streamId);
    return null;
  }

  /** Reads on into {@code seen}; whether {@code streamId} has been seen by now. */
  private static boolean readInto(Subject subject, List<String> seen, String streamId) {
    try {
      seen.addAll(subject.readOn());
    } catch (Exception e) {
      throw new IllegalStateException("reading on failed", e);
    }
    return seen.contains(streamId);
  }

  private static int waitingLocks(Connection control) {
    try (Statement s = control.createStatement();
        ResultSet r =
            s.executeQuery(
                """
                SELECT count(*) FROM pg_locks
                 WHERE locktype = 'advisory' AND NOT granted
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """)) {
      r.next();
      return r.getInt(1);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read pg_locks", e);
    }
  }

  private static void advisoryLock(Connection control, String function) throws Exception {
    try (Statement s = control.createStatement()) {
      s.execute("SELECT " + function + "(" + STALL_LOCK + ")");
    }
  }

  /** Polls until the condition holds; fails after {@link #WAIT} naming what it waited for. */
  private static void awaitCondition(String what, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("gave up waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  private static Subject ours(EventStore store) {
    return new Subject() {
      private Position checkpoint = Position.START;

      @Override
      public void write(String streamId) {
        store.append(streamId, ExpectedVersion.noStream(), Payloads.event());
      }

      @Override
      public List<String> readOn() {
        List<String> streams = new ArrayList<>();
        GlobalLogPage page;
        do {
          page = store.readAll(checkpoint, EventFilter.all(), 100);
          page.events().stream().map(RecordedEvent::streamId).forEach(streams::add);
          checkpoint = page.next();
        } while (!page.endOfLog());
        return streams;
      }
    };
  }

  /** A plain INSERT, and keyset paging by the {@code bigserial} id. */
  private static Subject limit(BenchmarkDatabase database) {
    return new Subject() {
      private long checkpoint = 0;

      @Override
      public void write(String streamId) throws Exception {
        try (Connection c = database.limit().getConnection();
            PreparedStatement insert = c.prepareStatement(Payloads.LIMIT_INSERT)) {
          Payloads.bindLimitRow(insert, streamId, 1);
          insert.executeUpdate();
        }
      }

      @Override
      public List<String> readOn() throws Exception {
        return keyset(
            database.limit()::getConnection,
            "SELECT id, stream_id FROM limit_jdbc.events WHERE id > ? ORDER BY id",
            checkpoint,
            last -> checkpoint = last);
      }
    };
  }

  private static Subject axon(AxonPeer axon) {
    return new Subject() {
      private TrackingToken checkpoint = null;

      @Override
      public void write(String streamId) {
        axon.append(List.of(AxonPeer.event(streamId, 0)));
      }

      @Override
      public List<String> readOn() {
        List<String> streams = new ArrayList<>();
        try (Stream<? extends TrackedEventMessage<?>> events = axon.readAfter(checkpoint)) {
          events.forEach(
              event -> {
                streams.add(((DomainEventMessage<?>) event).getAggregateIdentifier());
                checkpoint = event.trackingToken();
              });
        }
        return streams;
      }
    };
  }

  /** {@code write_message}, and a global reader paging by {@code global_position}. */
  private static Subject messageDbGlobal(MessageDbPeer messageDb) {
    return new Subject() {
      private long checkpoint = 0;

      @Override
      public void write(String streamName) throws Exception {
        writeMessage(messageDb, streamName);
      }

      @Override
      public List<String> readOn() throws Exception {
        return keyset(
            messageDb::connection,
            "SELECT global_position, stream_name FROM message_store.messages"
                + " WHERE global_position > ? ORDER BY global_position",
            checkpoint,
            last -> checkpoint = last);
      }
    };
  }

  /** {@code write_message}, and {@code get_category_messages} of one category. */
  private static Subject messageDbCategory(MessageDbPeer messageDb, String category) {
    return new Subject() {
      private long checkpoint = 0;

      @Override
      public void write(String streamName) throws Exception {
        writeMessage(messageDb, streamName);
      }

      @Override
      public List<String> readOn() throws Exception {
        // get_category_messages reads from its position on, inclusive.
        return keyset(
            messageDb::connection,
            "SELECT global_position, stream_name FROM get_category_messages('"
                + category
                + "', ? + 1, 1000)",
            checkpoint,
            last -> checkpoint = last);
      }
    };
  }

  private static void writeMessage(MessageDbPeer messageDb, String streamName) throws Exception {
    try (Connection c = messageDb.connection();
        PreparedStatement write = MessageDbPeer.prepareWrite(c)) {
      MessageDbPeer.write(write, streamName, 0);
    }
  }

  @FunctionalInterface
  private interface ConnectionSource {
    Connection getConnection() throws SQLException;
  }

  @FunctionalInterface
  private interface Checkpoint {
    void moveTo(long position);
  }

  /** Runs a (position, stream) query after {@code after}; moves the checkpoint to the last row. */
  private static List<String> keyset(
      ConnectionSource connections, String sql, long after, Checkpoint checkpoint)
      throws Exception {
    List<String> streams = new ArrayList<>();
    try (Connection c = connections.getConnection();
        PreparedStatement select = c.prepareStatement(sql)) {
      select.setLong(1, after);
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          streams.add(rows.getString(2));
          checkpoint.moveTo(rows.getLong(1));
        }
      }
    }
    return streams;
  }
}
