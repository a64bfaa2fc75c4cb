package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.global.StreamSegment;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The segments of a partitioned subscription on this node, run by one thread on one session. The
 * session holds the advisory lock of every segment this node owns: losing it loses them all, and
 * aborts the transaction in flight with them. The thread reads the log once, from the lowest owned
 * checkpoint, and delivers a page's events of all owned segments together: to a transactional
 * handler in one transaction that moves every owned segment's checkpoint by compare-and-set in one
 * statement (all of them move, or none and the transaction rolls back). Events that fail go to
 * their segment's own {@link BatchDelivery}, as a single worker delivers them (retries, parking,
 * and under {@link FailurePolicy#PARK_AND_STOP} stopping that segment only), except that the thread
 * does not wait between a failing event's attempts: that segment stays at the event until its next
 * attempt is due while the others go on (the log is read from its checkpoint again; the others skip
 * what they have handled). Segments are taken and let go between pages, as {@link
 * SegmentMembership} assigns them; one taken behind the others is read from its own checkpoint, and
 * the others skip what they have handled already.
 */
final class SegmentGroup {
  private static final Logger log = LoggerFactory.getLogger(SegmentGroup.class);
  private static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(5);

  /** One segment: its checkpoint, its lock, and its own delivery for events that fail. */
  final class Segment {
    final int index;
    final String name;
    final CheckpointTransactions checkpoints;
    final BatchDelivery batches;
    volatile SubscriptionState state = SubscriptionState.STOPPED;

    // The group's thread only:
    boolean owned; // its lock is held on the session
    boolean failed; // stopped by a parked event: not taken again until restarted
    Position saved; // the stored checkpoint, which compare-and-set moves from
    Position handled; // every event of the segment up to here is handled (at or after saved)
    long nextLockAttempt = System.nanoTime();
    int failedAttempts; // of its next event, which waits for its next attempt
    Position failing; // that event's position, while it waits
    long retryAt; // when that attempt is due (System.nanoTime())

    private Segment(int index, Function<CheckpointTransactions, Delivery> delivery) {
      this.index = index;
      this.name = SubscriptionOptions.checkpointName(options.name(), index);
      this.checkpoints =
          new CheckpointTransactions(tables, name, owner, follower.transactionEnded());
      this.batches =
          new BatchDelivery(
              options.segment(index), delivery.apply(checkpoints), checkpoints, tables, stop);
    }

    /** Re-delivers one of its parked events; see {@link BatchDelivery#redeliver}. */
    boolean redeliver(long failureId) {
      return batches.redeliver(failureId);
    }

    private String lockName() {
      return tables.schema() + "/" + name;
    }

    /** An event of it failed and waits for another attempt: it is delivered on its own. */
    boolean retrying() {
      return failedAttempts > 0;
    }

    /** Its retrying event is at or before {@code position}: it must not move past it. */
    boolean retriesBefore(Position position) {
      return retrying() && failing.compareTo(position) <= 0;
    }

    /** Its retrying event's next attempt is not due yet: its events wait, the others go on. */
    boolean backingOff(long now) {
      return retrying() && now - retryAt < 0;
    }
  }

  private final EventStore store;
  private final SubscriptionTables tables;
  private final SubscriptionOptions options;
  private final String owner;
  private final SegmentMembership membership;
  private final StopSignal stop = new StopSignal();
  private final List<Segment> segments = new ArrayList<>();
  private final CheckpointTransactions transactions;
  private final Delivery delivery;
  private final LogFollower follower;
  private final Thread thread;

  SegmentGroup(
      EventStore store,
      SubscriptionTables tables,
      SubscriptionOptions options,
      String owner,
      SegmentMembership membership,
      Function<CheckpointTransactions, Delivery> delivery) {
    this.store = store;
    this.tables = tables;
    this.options = options;
    this.owner = owner;
    this.membership = membership;
    this.follower = new LogFollower(store, options, options.filter(), stop);
    for (int index = 0; index < options.segments(); index++) {
      segments.add(new Segment(index, delivery));
    }
    this.transactions =
        new CheckpointTransactions(tables, options.name(), owner, follower.transactionEnded());
    this.delivery = delivery.apply(transactions);
    this.thread = new Thread(this::run, "subscription-" + options.name());
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  SubscriptionState state(int index) {
    return segments.get(index).state;
  }

  List<SubscriptionState> states() {
    return segments.stream().map(segment -> segment.state).toList();
  }

  /** The segment whose checkpoint is named {@code name}, e.g. a parked failure's. */
  Optional<Segment> segmentNamed(String name) {
    return segments.stream().filter(segment -> segment.name.equals(name)).findFirst();
  }

  void stop() {
    follower.stop(thread);
  }

  private void run() {
    int storageFailures = 0;
    while (!stop.raised()) {
      if (!anyToTake()) {
        standBy();
        stop.pause(options.standbyInterval());
        continue;
      }
      try (ControlConnection session = ControlConnection.open(tables.dataSource())) {
        onSession(session.connection());
        handleUntilStopped(session);
        storageFailures = 0;
      } catch (SQLException | RuntimeException e) {
        if (stop.raised()) {
          break;
        }
        // A connection failed or PostgreSQL is restarting: nothing is parked for that. The locks
        // went with the session (others may take over); wait, and start over from the checkpoints.
        storageFailures++;
        letGoAll(SubscriptionState.RECONNECTING);
        log.warn(
            "Subscription {} paused by a storage failure ({} in a row), retrying: {}",
            options.name(),
            storageFailures,
            e.toString());
        stop.pause(reconnectDelay(storageFailures));
      } finally {
        onSession(null);
      }
    }
    for (Segment segment : segments) {
      segment.owned = false;
      if (segment.state != SubscriptionState.FAILED) {
        segment.state = SubscriptionState.STOPPED;
      }
    }
  }

  private void onSession(Connection session) {
    transactions.runOnLockSession(session);
    segments.forEach(segment -> segment.checkpoints.runOnLockSession(session));
  }

  private boolean anyToTake() {
    return segments.stream().anyMatch(s -> s.owned || (!s.failed && membership.assigned(s.index)));
  }

  private void standBy() {
    for (Segment segment : segments) {
      if (!segment.failed) {
        segment.state = SubscriptionState.STANDBY;
      }
    }
  }

  private void letGoAll(SubscriptionState state) {
    for (Segment segment : segments) {
      if (segment.owned) {
        segment.owned = false;
        segment.state = state;
      }
    }
  }

  private Duration reconnectDelay(int storageFailures) {
    long millis = options.standbyInterval().toMillis() << Math.min(storageFailures - 1, 10);
    return Duration.ofMillis(Math.min(millis, MAX_RECONNECT_DELAY.toMillis()));
  }

  /**
   * Handles until stopped, or until no segment is owned or assigned here any more (then the session
   * goes, and the thread stands by).
   */
  private void handleUntilStopped(ControlConnection session) throws SQLException {
    boolean atHead = false;
    Position lastFrom = null;
    boolean idle = false; // waited for appends since events were last delivered
    long savedAt = System.nanoTime();
    while (!stop.raised()) {
      if (takeAndLetGo(session)) {
        atHead = false; // a segment taken may be behind: read from its checkpoint
      }
      List<Segment> owned = segments.stream().filter(segment -> segment.owned).toList();
      if (owned.isEmpty()) {
        if (!anyToTake()) {
          return;
        }
        stop.pause(options.standbyInterval()); // assigned here, but still held elsewhere
        continue;
      }
      // A segment whose failing event waits for its next attempt does not hold the others back:
      // the log is read from the lowest of the others, and from its event again once it is due.
      long now = System.nanoTime();
      List<Segment> reading = owned.stream().filter(segment -> !segment.backingOff(now)).toList();
      if (reading.isEmpty()) {
        // Not past the stand-by interval: segments are taken and handed back between reads.
        stop.pause(sooner(untilNextAttempt(owned), options.standbyInterval()));
        continue;
      }
      Position from = readingFrom(reading);
      if (lastFrom != null && from.compareTo(lastFrom) < 0) {
        atHead = false; // back to a retrying segment's event
      }
      lastFrom = from;
      LogFollower.Read read = follower.read(from, atHead);
      GlobalLogPage page = read.page();
      atHead = page.endOfLog();
      List<RecordedEvent> fresh = new ArrayList<>();
      Set<Segment> held = new HashSet<>(); // owned, with events in the page left for later
      for (RecordedEvent event : page.events()) {
        Segment segment = segmentOf(event);
        if (segment.owned && event.position().isAfter(segment.handled)) {
          if (segment.backingOff(now)) {
            held.add(segment);
          } else {
            fresh.add(event);
          }
        }
      }
      if (!fresh.isEmpty()) {
        if (idle && delivery instanceof Delivery.Plain) {
          // The session may have died while idle: plain handlers act before the checkpoint is
          // saved on it, so check first (see SubscriptionWorker).
          session.requireAliveNow();
        }
        idle = false;
        try {
          deliver(session, fresh, page.next(), held);
        } catch (CheckpointMoved moved) {
          reload(session, owned);
          held.addAll(segments); // goes on from the stored checkpoints, past nothing
        }
        savedAt = System.nanoTime();
        session.requireAlive();
      }
      for (Segment segment : owned) {
        if (segment.owned && !held.contains(segment) && !segment.retriesBefore(page.next())) {
          // Every event of it up to the page's end is handled, or was not wanted.
          segment.handled = later(segment.handled, page.next());
        }
      }
      long sinceSaved = System.nanoTime() - savedAt;
      boolean unsaved = owned.stream().anyMatch(s -> s.owned && s.handled.isAfter(s.saved));
      if (unsaved && sinceSaved >= SubscriptionWorker.SKIP_SAVE_INTERVAL.toNanos()) {
        // Skipped events are stored now and then, not at every wake-up (see SubscriptionWorker).
        saveSkips(session, owned);
        savedAt = System.nanoTime();
        sinceSaved = 0;
        unsaved = false;
      }
      if (page.endOfLog()) {
        if (!page.events().isEmpty()) {
          follower.spaceBatches(); // read again (at once unless spaced): wait only for nothing
          continue;
        }
        // Wait for appends, a save of skipped events, or a retrying event's next attempt.
        Duration untilSave =
            unsaved ? SubscriptionWorker.SKIP_SAVE_INTERVAL.minusNanos(sinceSaved) : null;
        follower.awaitMore(read, session, sooner(untilSave, untilNextAttempt(owned)));
        idle = true;
        session.requireAlive();
      }
    }
    for (Segment segment : segments) {
      if (segment.owned) {
        // Marked before the locks go with the session, as a stopping worker does.
        tables.markState(segment.name, owner, SubscriptionState.STOPPED, null);
        segment.state = SubscriptionState.STOPPED;
      }
    }
  }

  /** Where the next read starts: the lowest handled position of {@code segments}. */
  private static Position readingFrom(List<Segment> segments) {
    Position from = segments.get(0).handled;
    for (Segment segment : segments) {
      from = segment.handled.compareTo(from) < 0 ? segment.handled : from;
    }
    return from;
  }

  /** Until the first retrying segment's next attempt is due; null if none retries. */
  private static Duration untilNextAttempt(List<Segment> owned) {
    Long soonest = null;
    long now = System.nanoTime();
    for (Segment segment : owned) {
      if (segment.owned && segment.retrying()) {
        long left = Math.max(0, segment.retryAt - now);
        soonest = soonest == null ? left : Math.min(soonest, left);
      }
    }
    return soonest == null ? null : Duration.ofNanos(soonest);
  }

  private static Duration sooner(Duration a, Duration b) {
    if (a == null || b == null) {
      return a == null ? b : a;
    }
    return a.compareTo(b) <= 0 ? a : b;
  }

  private Segment segmentOf(RecordedEvent event) {
    return segments.get(StreamSegment.indexOf(event.streamId(), segments.size()));
  }

  private static Position later(Position a, Position b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  /**
   * Takes the segments newly assigned here whose locks are free, and lets go of those no longer
   * assigned. True if it took one.
   */
  private boolean takeAndLetGo(ControlConnection session) throws SQLException {
    boolean took = false;
    for (Segment segment : segments) {
      boolean assigned = membership.assigned(segment.index);
      if (segment.owned && !assigned) {
        // Marked before the lock goes, so monitoring never shows this node on a segment it left.
        tables.markState(segment.name, owner, SubscriptionState.STANDBY, null);
        session.unlock(segment.lockName());
        segment.owned = false;
        segment.state = SubscriptionState.STANDBY;
      } else if (!segment.owned && !segment.failed && assigned) {
        if (System.nanoTime() - segment.nextLockAttempt < 0) {
          continue;
        }
        if (session.tryLock(segment.lockName())) {
          segment.owned = true; // before the load: a failure from here on lets go of the lock
          segment.failedAttempts = 0; // its next event is tried as new, from the stored checkpoint
          segment.saved =
              segment.handled =
                  tables.loadOrCreate(
                      session.connection(),
                      segment.name,
                      resolve(options.startFrom()),
                      options.segments());
          segment.state = SubscriptionState.RUNNING;
          tables.markState(segment.name, owner, SubscriptionState.RUNNING, null);
          took = true;
        } else {
          segment.state = SubscriptionState.STANDBY;
          segment.nextLockAttempt = System.nanoTime() + options.standbyInterval().toNanos();
        }
      } else if (!segment.owned && !segment.failed) {
        segment.state = SubscriptionState.STANDBY;
      }
    }
    return took;
  }

  private Position resolve(Position startFrom) {
    return startFrom.equals(Position.END) ? store.headPosition() : startFrom;
  }

  /**
   * Delivers the owned segments' new events of a page that ends at {@code next}: together while
   * they succeed, then each segment's remaining ones on their own. A segment whose event fails and
   * waits for another attempt joins {@code held}.
   */
  private void deliver(
      ControlConnection session, List<RecordedEvent> fresh, Position next, Set<Segment> held)
      throws SQLException, CheckpointMoved {
    // A segment with a retrying event delivers on its own, so that event is tried alone.
    List<RecordedEvent> together = new ArrayList<>();
    List<RecordedEvent> rest = new ArrayList<>();
    for (RecordedEvent event : fresh) {
      (segmentOf(event).retrying() ? rest : together).add(event);
    }
    if (delivery instanceof Delivery.Transactional transactional && !together.isEmpty()) {
      int delivered =
          transactional.deliverInBatches(
              together, transactions, new GroupCheckpoint(together, next));
      rest.addAll(0, together.subList(delivered, together.size()));
    } else {
      rest.addAll(0, together);
    }
    Map<Segment, List<RecordedEvent>> bySegment = new LinkedHashMap<>();
    for (RecordedEvent event : rest) {
      bySegment.computeIfAbsent(segmentOf(event), s -> new ArrayList<>()).add(event);
    }
    for (Map.Entry<Segment, List<RecordedEvent>> entry : bySegment.entrySet()) {
      Segment segment = entry.getKey();
      BatchDelivery.Pass pass =
          segment.batches.deliverOnce(entry.getValue(), segment.saved, segment.failedAttempts);
      segment.saved = segment.handled = pass.checkpoint();
      segment.failedAttempts = pass.failedAttempts();
      if (segment.retrying()) {
        segment.failing =
            BatchDelivery.after(entry.getValue(), pass.checkpoint()).get(0).position();
        segment.retryAt =
            System.nanoTime() + options.retryPolicy().delayAfter(pass.failedAttempts()).toNanos();
        held.add(segment);
      }
      if (pass.stopForFailure()) {
        fail(session, segment);
      }
      if (stop.raised()) {
        held.addAll(segments); // the rest of the page is not handled: nothing moves past it
        return;
      }
    }
  }

  /** A segment stopped by a parked event lets go of its lock, as a stopped worker does. */
  private void fail(ControlConnection session, Segment segment) throws SQLException {
    segment.failed = true;
    segment.state = SubscriptionState.FAILED;
    tables.markState(segment.name, owner, SubscriptionState.FAILED, null);
    session.unlock(segment.lockName());
    segment.owned = false;
  }

  /**
   * Moves every owned segment in a batch transaction: to the batch's last event, or to the page's
   * end after the last batch of the page (all their events up to there are in the batches).
   */
  private final class GroupCheckpoint implements Delivery.BatchCheckpoint {
    private final List<RecordedEvent> fresh;
    private final Position next;
    private List<SubscriptionTables.Move> moves = List.of();
    private List<Segment> moved = List.of(); // the segment of each move

    GroupCheckpoint(List<RecordedEvent> fresh, Position next) {
      this.fresh = fresh;
      this.next = next;
    }

    @Override
    public void moveAndCommit(Connection c, List<RecordedEvent> batch, SqlWrites writes)
        throws SQLException, CheckpointMoved {
      RecordedEvent last = batch.get(batch.size() - 1);
      Position to = last == fresh.get(fresh.size() - 1) ? next : last.position();
      int[] handled = new int[segments.size()];
      for (RecordedEvent event : batch) {
        handled[segmentOf(event).index]++;
      }
      List<SubscriptionTables.Move> planned = new ArrayList<>();
      List<Segment> plannedSegments = new ArrayList<>();
      for (Segment segment : segments) {
        // A retrying segment's events are not in the batch: it stays where it is.
        Position target = segment.owned && !segment.retrying() ? later(segment.handled, to) : null;
        if (target != null && target.isAfter(segment.saved)) {
          planned.add(
              new SubscriptionTables.Move(
                  segment.name, segment.saved, target, handled[segment.index]));
          plannedSegments.add(segment);
        }
      }
      moves = planned;
      moved = plannedSegments;
      if (planned.isEmpty()) {
        writes.execute(c); // the transaction's own commit follows
      } else if (!tables.advanceAll(c, writes, owner, planned, true)) {
        throw new CheckpointMoved();
      }
    }

    @Override
    public void committed(List<RecordedEvent> batch) {
      for (int i = 0; i < moves.size(); i++) {
        moved.get(i).saved = moved.get(i).handled = moves.get(i).to();
      }
    }
  }

  private void saveSkips(ControlConnection session, List<Segment> owned) throws SQLException {
    List<SubscriptionTables.Move> moves = new ArrayList<>();
    for (Segment segment : owned) {
      if (segment.owned && segment.handled.isAfter(segment.saved)) {
        moves.add(new SubscriptionTables.Move(segment.name, segment.saved, segment.handled, 0));
      }
    }
    if (tables.advanceAll(session.connection(), owner, moves, false)) {
      owned.forEach(segment -> segment.saved = segment.handled);
    } else {
      reload(session, owned); // another process moved one
    }
  }

  /** After a checkpoint moved under it: goes on from the stored checkpoints. */
  private void reload(ControlConnection session, List<Segment> owned) throws SQLException {
    for (Segment segment : owned) {
      if (segment.owned) {
        segment.failedAttempts = 0;
        segment.saved =
            segment.handled = tables.checkpoint(session.connection(), segment.name).orElseThrow();
      }
    }
  }
}
