package dev.eventscan.scan.process;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.serialization.EventTypeRegistry;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.subscription.ParkedFailure;
import dev.eventscan.eventstore.subscription.SqlWrites;
import dev.eventscan.eventstore.subscription.Subscription;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.eventstore.subscription.SubscriptionState;
import dev.eventscan.eventstore.subscription.Subscriptions;
import dev.eventscan.eventstore.subscription.TransactionalEventHandler;
import dev.eventscan.scan.lifecycle.ScanCommand;
import dev.eventscan.scan.lifecycle.ScanCommand.RecordDomains;
import dev.eventscan.scan.lifecycle.ScanCommand.RecordStepFailure;
import dev.eventscan.scan.lifecycle.ScanCommand.RecordSubdomains;
import dev.eventscan.scan.lifecycle.ScanCommand.StartDomainDiscovery;
import dev.eventscan.scan.lifecycle.ScanCommand.StartSubdomainDiscovery;
import dev.eventscan.scan.lifecycle.ScanEvent;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import dev.eventscan.scan.lifecycle.ScanState;
import dev.eventscan.scan.lifecycle.ScanStep;
import dev.eventscan.scan.lifecycle.Scans;
import dev.eventscan.scan.scanner.DomainDiscovery;
import dev.eventscan.scan.scanner.DomainScanner;
import dev.eventscan.scan.scanner.SubdomainDiscovery;
import dev.eventscan.scan.target.Target;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives scans: for a scan that changed, works out from its state which scanner calls it waits for,
 * runs them on a fixed number of workers with a timeout, and records their results or failures as
 * commands. It keeps no state of its own beyond what is queued or running now; the table of
 * unfinished scans is its durable memory.
 *
 * <p>Nothing depends on a later event to happen by chance: the node whose subscription holds the
 * process manager's lock sweeps that table periodically and drives every unfinished scan that has
 * nothing in flight here. So work that found no room in the bounded queues, a start or an outcome
 * that could not be recorded, a drive that failed, and a scan left by a crashed node are all picked
 * up within one sweep. Scanner calls may therefore run twice; the scan's rules ignore work recorded
 * twice.
 */
public final class ScanProcessManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ScanProcessManager.class);

  /** Event types after which a scan may wait for new scanner calls. */
  private static final Set<String> DRIVING_EVENTS =
      Set.of(
          ScanEventTypes.SCAN_REQUESTED,
          ScanEventTypes.DOMAINS_DISCOVERED,
          ScanEventTypes.STEP_ATTEMPT_FAILED);

  private static final EventTypeRegistry TYPES = ScanEventTypes.registry();

  private static final Set<String> FINAL_EVENTS =
      Set.of(
          ScanEventTypes.SCAN_COMPLETED, ScanEventTypes.SCAN_FAILED, ScanEventTypes.SCAN_CANCELLED);

  /**
   * The events its subscription needs: those that list or unlist a scan, or may leave it waiting.
   * The others (step starts, subdomain results) are most of a scan's events, and delivering them
   * cost a transaction and a checkpoint write per batch on each segment for nothing.
   */
  public static final EventFilter EVENTS =
      EventFilter.categories(ScanEventTypes.CATEGORY)
          .andTypes(
              Stream.concat(DRIVING_EVENTS.stream(), FINAL_EVENTS.stream()).toArray(String[]::new));

  /** Scans waiting to be loaded and driven; when full, the next sweep finds the rest. */
  private static final int DRIVE_QUEUE_CAPACITY = 1_000;

  private static final int PARKED_EVENTS_PER_SWEEP = 100;

  /**
   * Unfinished scans one sweep reads at most, oldest first; the next sweep goes on after the last
   * one read, and starts over after the newest. At simulator rates thousands are unfinished at any
   * time, and each sweep read all of them.
   */
  public static final int SWEEP_PAGE = 500;

  /** Before every unfinished scan: where a sweep starts over. */
  private static final SweptTo FROM_THE_OLDEST =
      new SweptTo(OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC), "");

  /**
   * Outcomes appended at once, at most: past the 16 appends in flight at which the store starts
   * gathering appends into shared commits.
   */
  private static final int RECORDERS = 32;

  private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(10);

  private final Scans scans;
  private final DataSource dataSource;
  private final String schema;
  private final Map<String, DomainScanner> scanners;
  private final ProcessSettings settings;

  private final BlockingQueue<String> toDrive = new LinkedBlockingQueue<>(DRIVE_QUEUE_CAPACITY);
  private final Set<String> driveRequested = ConcurrentHashMap.newKeySet();

  /**
   * The stream version a requested drive needs at least: a state this node already knows (it
   * appended it, or read it) at that version or later is driven without reading the scan again.
   */
  private final Map<String, Long> driveFrom = new ConcurrentHashMap<>();

  /** The version each scan was last driven at here: events up to it need no drive. */
  private final Map<String, Long> drivenAt = new ConcurrentHashMap<>();

  private final BlockingQueue<ScanWork> queue;

  /** Work queued, running or waiting for its retry time here, by key: one run per attempt. */
  private final Map<String, ScanWork> inFlight = new ConcurrentHashMap<>();

  /** Step timeouts and retry wake-ups only: never waits on the database. */
  private final ScheduledExecutorService timers;

  /** The sweep. */
  private final ScheduledExecutorService sweeper;

  /** Appends the outcomes of scanner calls, timeouts included. */
  private final ExecutorService recorders;

  private final Thread driver;
  private final AtomicInteger workerGeneration = new AtomicInteger();
  private volatile List<Thread> workers = List.of();
  private volatile Subscriptions subscriptions;
  private volatile Subscription subscription;
  private volatile boolean closed;

  /** The last unfinished scan the previous sweep read; guarded by {@code this}. */
  private SweptTo sweptTo = FROM_THE_OLDEST;

  public ScanProcessManager(
      Scans scans,
      DataSource dataSource,
      Map<String, DomainScanner> scanners,
      ProcessSettings settings,
      String schema) {
    this.scans = scans;
    this.dataSource = dataSource;
    this.schema = schema;
    this.scanners = Map.copyOf(scanners);
    this.settings = settings;
    this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
    this.timers = Executors.newSingleThreadScheduledExecutor(named("scan-timer"));
    this.sweeper = Executors.newSingleThreadScheduledExecutor(named("scan-sweeper"));
    this.recorders = Executors.newFixedThreadPool(RECORDERS, named("scan-recorder"));
    this.driver = named("scan-driver").newThread(this::driveRequestedScans);
  }

  /**
   * Starts the workers, the process manager's subscription and the sweep. Only the node whose
   * subscription holds its lock (state {@link SubscriptionState#RUNNING}) sweeps.
   */
  public void start(Subscriptions subscriptions, SubscriptionOptions options) {
    this.subscriptions = subscriptions;
    driver.start();
    workers = startWorkers(workerGeneration.get());
    subscription =
        subscriptions.startTransactional(
            options,
            TransactionalEventHandler.ofWrites((events, transaction) -> writesFor(events)));
    // The first sweep one interval from now: at start the node does not drive scans yet (its
    // subscription is still taking its lock), so a sweep then found nothing to do, or, started
    // late on a busy machine, ran one more page at an unforeseeable time.
    long interval = settings.sweepInterval().toMillis();
    sweeper.scheduleWithFixedDelay(this::sweepQuietly, interval, interval, TimeUnit.MILLISECONDS);
  }

  /**
   * The process manager's subscription handler, run in the transaction that moves its checkpoint:
   * it keeps the table of unfinished scans (one statement per batch for the requested ones, one for
   * the finished ones) and asks for the scans to be driven. Driving happens on another thread,
   * because loading a scan here would keep this transaction, and with its id the barrier of every
   * reader, open while it waits on other connections.
   */
  public void onEvents(List<RecordedEvent> events, Connection transaction) throws SQLException {
    writesFor(events).execute(transaction);
  }

  /**
   * {@link #onEvents} as writes the subscription sends with its checkpoint's move and the COMMIT,
   * in one round trip: the table's INSERT and DELETE took a round trip each, holding the
   * transaction's id (and every global reader) across them.
   */
  private SqlWrites writesFor(List<RecordedEvent> events) {
    List<String> requested = new ArrayList<>();
    List<String> requestedAt = new ArrayList<>();
    List<String> finished = new ArrayList<>();
    for (RecordedEvent event : events) {
      if (event.type().equals(ScanEventTypes.SCAN_REQUESTED)) {
        requested.add(scanId(event));
        requestedAt.add(event.recordedAt().toString());
      } else if (FINAL_EVENTS.contains(event.type())) {
        finished.add(scanId(event));
      }
    }
    SqlWrites writes = SqlWrites.none();
    if (!requested.isEmpty()) {
      writes =
          writes.and(
              """
              INSERT INTO %s.scan_in_flight (scan_id, requested_at)
              SELECT r.scan_id, r.requested_at::timestamptz
                FROM unnest(?::text[], ?::text[]) AS r(scan_id, requested_at)
              ON CONFLICT DO NOTHING
              """
                  .formatted(schema),
              requested.toArray(String[]::new),
              requestedAt.toArray(String[]::new));
    }
    if (!finished.isEmpty()) {
      // After the inserts: a scan may start and end in one batch.
      writes = writes.and(forgetSql(), (Object) finished.toArray(String[]::new));
      finished.forEach(drivenAt::remove);
    }
    for (RecordedEvent event : events) {
      String scanId = scanId(event);
      if (DRIVING_EVENTS.contains(event.type())
          && event.streamVersion() > drivenAt.getOrDefault(scanId, 0L)) {
        requestDrive(scanId, event.streamVersion());
      }
    }
    return writes;
  }

  private static String scanId(RecordedEvent event) {
    return event.streamId().substring(ScanEventTypes.CATEGORY.length() + 1);
  }

  /**
   * Drives a scan just requested on this node, when this node drives it: its first step need not
   * wait for the subscription to deliver the request. The subscription still records it among the
   * unfinished scans.
   */
  public void requested(String scanId) {
    if (drives(scanId)) {
      requestDrive(scanId, 1);
    }
  }

  /** True while this node owns some of the process manager's segments, and so drives scans. */
  public boolean drivesScans() {
    Subscription current = subscription;
    return !closed && current != null && current.state() == SubscriptionState.RUNNING;
  }

  /** True while this node owns the segment of the scan, and so is the one to drive it. */
  private boolean drives(String scanId) {
    Subscription current = subscription;
    return !closed && current != null && current.handles(ScanEventTypes.CATEGORY + "-" + scanId);
  }

  /**
   * Drives the unfinished scans that have nothing queued, running or waiting for a retry here, at
   * most {@link #SWEEP_PAGE} of them, from where the previous sweep stopped, and delivers this
   * subscription's parked events again; only on the node that {@link #drivesScans}. Returns how
   * many scans it asked to drive. Runs by itself every {@code sweepInterval}: a stalled scan is
   * found within (unfinished scans / page) sweeps.
   */
  public synchronized int sweep() {
    if (!drivesScans()) {
      return 0;
    }
    redeliverParkedEvents();
    Set<String> busy = inFlight.values().stream().map(ScanWork::scanId).collect(Collectors.toSet());
    int requested = 0;
    for (String scanId : nextUnfinishedScans()) {
      // Waiting to be driven is not stalled. A stalled one is read: a state kept here may be
      // older than what another node appended.
      if (!busy.contains(scanId)
          && !driveRequested.contains(scanId)
          && drives(scanId)
          && requestDrive(scanId, Long.MAX_VALUE)) {
        requested++;
      }
    }
    return requested;
  }

  private void sweepQuietly() {
    try {
      sweep();
    } catch (RuntimeException e) {
      log.warn("Sweep of unfinished scans failed; the next one tries again: {}", e.toString());
    }
  }

  /**
   * A parked event of this subscription would otherwise leave the table of unfinished scans wrong
   * for good; handling an event again is harmless (the table's writes are idempotent).
   */
  private void redeliverParkedEvents() {
    String name = subscription.name();
    for (ParkedFailure failure :
        subscriptions.failures(ParkedFailure.OPEN, PARKED_EVENTS_PER_SWEEP)) {
      if (failure.subscription().equals(name)
          || failure.subscription().startsWith(name + "#")) { // one of its segments
        try {
          subscriptions.retryFailure(failure.id());
        } catch (RuntimeException e) {
          log.debug("Parked event {} not delivered again: {}", failure.id(), e.toString());
        }
      }
    }
  }

  /** A place in the unfinished scans, in the order the sweep reads them. */
  private record SweptTo(OffsetDateTime requestedAt, String scanId) {}

  /** The next page of unfinished scans after {@link #sweptTo}; moves it on. */
  private List<String> nextUnfinishedScans() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement select =
            c.prepareStatement(
                """
                SELECT scan_id, requested_at FROM %s.scan_in_flight
                 WHERE (requested_at, scan_id) > (?, ?)
                 ORDER BY requested_at, scan_id
                 LIMIT ?
                """
                    .formatted(schema))) {
      select.setObject(1, sweptTo.requestedAt());
      select.setString(2, sweptTo.scanId());
      select.setInt(3, SWEEP_PAGE);
      List<String> ids = new ArrayList<>();
      SweptTo last = FROM_THE_OLDEST;
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          ids.add(rows.getString(1));
          last = new SweptTo(rows.getObject(2, OffsetDateTime.class), rows.getString(1));
        }
      }
      sweptTo = ids.size() < SWEEP_PAGE ? FROM_THE_OLDEST : last;
      return ids;
    } catch (SQLException e) {
      throw new IllegalStateException("listing unfinished scans failed: " + e.getMessage(), e);
    }
  }

  private void forget(Connection c, List<String> scanIds) throws SQLException {
    SqlWrites.of(forgetSql(), (Object) scanIds.toArray(String[]::new)).execute(c);
  }

  private String forgetSql() {
    return "DELETE FROM %s.scan_in_flight WHERE scan_id = ANY(?::text[])".formatted(schema);
  }

  /** Scanner calls waiting for a worker (not yet running). */
  public int queued() {
    return queue.size();
  }

  /** Scanner calls queued, running, or waiting for their retry time. */
  public int inFlight() {
    return inFlight.size();
  }

  /**
   * Simulates the worker pool dying: running and queued scanner calls are abandoned (their results
   * are never recorded), new workers take over and the unfinished scans are swept at once. For
   * fault injection; returns how many scans were driven again.
   */
  public int crashWorkers() {
    List<Thread> crashed = workers;
    workers = startWorkers(workerGeneration.incrementAndGet());
    crashed.forEach(Thread::interrupt);
    queue.clear();
    inFlight.clear();
    drivenAt.clear();
    return sweepAll();
  }

  /** Sweeps page after page until every unfinished scan was looked at once. */
  private synchronized int sweepAll() {
    sweptTo = FROM_THE_OLDEST;
    int requested = 0;
    do {
      requested += sweep();
    } while (sweptTo != FROM_THE_OLDEST);
    return requested;
  }

  /** {@link #crashWorkers()}; the data source is no longer needed. */
  public int crashWorkers(DataSource ignored) {
    return crashWorkers();
  }

  /**
   * Asks the driver to drive a scan from a state at {@code version} or later; false if already
   * asked, or no room (the sweep finds it).
   */
  private boolean requestDrive(String scanId, long version) {
    if (closed) {
      return false;
    }
    if (driveFrom.size() >= DRIVE_QUEUE_CAPACITY * 10) {
      driveFrom.clear(); // only left behind by scans no longer driven here; drives then read
    }
    driveFrom.merge(scanId, version, Math::max);
    if (!driveRequested.add(scanId)) {
      return false;
    }
    if (toDrive.offer(scanId)) {
      return true;
    }
    driveRequested.remove(scanId);
    return false;
  }

  private void driveRequestedScans() {
    while (!closed) {
      String scanId;
      try {
        scanId = toDrive.take();
      } catch (InterruptedException e) {
        continue; // closing
      }
      driveRequested.remove(scanId);
      Long version = driveFrom.remove(scanId);
      try {
        drive(scanId, version == null ? 0 : version);
      } catch (RuntimeException e) {
        log.warn("Scan {} could not be driven; the sweep tries again: {}", scanId, e.toString());
      }
    }
  }

  /**
   * Looks at the scan's state, at {@code version} or later, and queues whatever it is waiting for.
   * Safe to repeat.
   */
  private void drive(String scanId, long version) {
    if (!drives(scanId)) {
      return; // its segment moved to another node, whose sweep drives it
    }
    Scans.LoadedScan scan = scans.known(scanId, version).orElseGet(() -> scans.load(scanId));
    ScanState state = scan.state();
    if (state instanceof ScanState.Finished) {
      forgetFinished(scanId); // its final event was parked or is not handled yet
      drivenAt.remove(scanId);
      return;
    }
    if (drivenAt.size() >= DRIVE_QUEUE_CAPACITY * 10) {
      drivenAt.clear(); // only left behind by scans that finished elsewhere; they drive again
    }
    drivenAt.merge(scanId, scan.version(), Math::max);
    for (ScanWork work : ScanWork.pending(state)) {
      if (inFlight.putIfAbsent(work.key(), work) != null) {
        continue; // queued, running or waiting here already
      }
      Duration wait =
          work.due() == null
              ? Duration.ZERO
              : Duration.between(scans.clock().instant(), work.due());
      boolean held = wait.isNegative() || wait.isZero() ? enqueue(work) : wakeAt(work, wait);
      if (!held) {
        inFlight.remove(work.key(), work); // closing; the next owner's sweep finds it
      }
    }
  }

  private void forgetFinished(String scanId) {
    try (Connection c = dataSource.getConnection()) {
      forget(c, List.of(scanId));
    } catch (SQLException e) {
      log.debug("Finished scan {} stays listed until the next sweep: {}", scanId, e.toString());
    }
  }

  /** A retry waits for its time, then the scan is driven again (nothing is held meanwhile). */
  private boolean wakeAt(ScanWork work, Duration wait) {
    try {
      timers.schedule(
          () -> {
            inFlight.remove(work.key(), work);
            requestDrive(work.scanId(), 0);
          },
          wait.toMillis(),
          TimeUnit.MILLISECONDS);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  /** Waits for room in the queue: back-pressure on the driver instead of an unbounded backlog. */
  private boolean enqueue(ScanWork work) {
    try {
      while (!closed) {
        if (queue.offer(work, 100, TimeUnit.MILLISECONDS)) {
          return true;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }

  private List<Thread> startWorkers(int generation) {
    ThreadFactory factory = named("scan-worker-" + generation);
    List<Thread> started = new ArrayList<>();
    for (int i = 0; i < settings.workers(); i++) {
      Thread worker = factory.newThread(() -> work(generation));
      worker.start();
      started.add(worker);
    }
    return List.copyOf(started);
  }

  private void work(int generation) {
    while (!closed && workerGeneration.get() == generation) {
      try {
        run(queue.take(), generation);
      } catch (InterruptedException e) {
        // closing or crashed: the loop condition decides
      }
    }
  }

  private void run(ScanWork work, int generation) {
    boolean handedOver = false;
    try {
      if (!drives(work.scanId())) {
        return; // handed over while it waited: the new owner runs it
      }
      if (work.start() && !recordStart(work)) {
        return; // the scan moved on (cancelled, or someone else started this attempt)
      }
      ScanCommand outcome = callWithTimeout(work);
      if (outcome == null) {
        handedOver = true; // timed out: the timeout records the failure
      } else if (workerGeneration.get() == generation) {
        handedOver = recordLater(work, outcome);
      }
    } catch (RuntimeException e) {
      log.warn(
          "Scan {}: {} attempt {} could not be recorded; the sweep runs it again: {}",
          work.scanId(),
          work.step(),
          work.attempt(),
          e.toString());
    } finally {
      if (!handedOver) {
        inFlight.remove(work.key(), work);
      }
    }
  }

  /**
   * Records a call's outcome on a recorder, so the worker is free for the next scanner call at
   * once, and the outcomes of many calls are appended at the same time; the attempt stays in flight
   * until it is recorded. False if closing (the attempt runs again after a restart).
   */
  private boolean recordLater(ScanWork work, ScanCommand outcome) {
    try {
      recorders.execute(() -> recordOutcome(work, outcome));
      return true;
    } catch (RejectedExecutionException closing) {
      return false;
    }
  }

  private void recordOutcome(ScanWork work, ScanCommand outcome) {
    try {
      record(work.scanId(), outcome);
    } catch (RuntimeException e) {
      log.warn(
          "Scan {}: {} attempt {} not recorded; the sweep runs it again: {}",
          work.scanId(),
          work.step(),
          work.attempt(),
          e.toString());
    } finally {
      inFlight.remove(work.key(), work);
    }
  }

  private boolean recordStart(ScanWork work) {
    return !record(work.scanId(), startCommand(work, scans.clock().instant())).isEmpty();
  }

  private static ScanCommand startCommand(ScanWork work, Instant now) {
    return work.step() == ScanStep.DOMAIN_DISCOVERY
        ? new StartDomainDiscovery(work.attempt(), now)
        : new StartSubdomainDiscovery(work.domain(), work.attempt(), now);
  }

  /**
   * Applies a command and, when its events leave the scan waiting for new scanner calls, drives the
   * scan on the state the append produced: no read, and no wait for the subscription. The steps it
   * makes due are recorded as started in the same append (see {@link #stepsToStart}).
   */
  private List<ScanEvent> record(String scanId, ScanCommand command) {
    Scans.Executed executed = scans.execute(scanId, command, this::stepsToStart);
    if (executed.events().stream()
        .anyMatch(e -> DRIVING_EVENTS.contains(TYPES.nameOf(e.getClass())))) {
      requestDrive(scanId, executed.version());
    }
    return executed.events();
  }

  /**
   * Calls the scanner; its timeout counts from now, when the step starts running. Returns null if
   * it timed out: the failure is then recorded without waiting for the call to give up.
   */
  private ScanCommand callWithTimeout(ScanWork work) {
    StepCall call = new StepCall(Thread.currentThread());
    ScheduledFuture<?> timeout =
        timers.schedule(
            () -> {
              if (call.timeOut()
                  && !recordLater(
                      work, failure(work, "timed out after " + settings.stepTimeout()))) {
                inFlight.remove(work.key(), work);
              }
            },
            settings.stepTimeout().toMillis(),
            TimeUnit.MILLISECONDS);
    ScanCommand outcome;
    try {
      outcome = callScanner(work);
    } catch (RuntimeException e) {
      outcome = failure(work, e.getMessage() == null ? e.toString() : e.getMessage());
    }
    timeout.cancel(false);
    if (!call.finish()) {
      Thread.interrupted(); // the timeout's interrupt, not meant for the next call
      return null;
    }
    return outcome;
  }

  private ScanCommand callScanner(ScanWork work) {
    DomainScanner scanner = scanners.get(work.scanner());
    if (scanner == null) {
      return failure(work, "no scanner named " + work.scanner() + " is configured");
    }
    if (work.step() == ScanStep.DOMAIN_DISCOVERY) {
      DomainDiscovery found = scanner.discoverDomains(Target.parse(work.target()));
      return new RecordDomains(found.domains(), scans.clock().instant());
    }
    SubdomainDiscovery found = scanner.discoverSubdomains(work.domain());
    return new RecordSubdomains(
        work.domain(), found.findings(), found.wildcard(), scans.clock().instant());
  }

  /**
   * The starts of the steps a state makes due now (the subdomain steps after domain discovery), to
   * append with the outcome that made them due: their calls then run without an append of their own
   * first. Retries wait for their time and start when they run. A step counts as started from then
   * on, queued or running; its timeout still counts from when its call runs, and after a restart
   * the same attempt runs again.
   */
  private List<ScanCommand> stepsToStart(ScanState state) {
    Instant now = scans.clock().instant();
    return ScanWork.pending(state).stream()
        .filter(work -> work.start() && work.due() == null && !inFlight.containsKey(work.key()))
        .map(work -> startCommand(work, now))
        .toList();
  }

  private RecordStepFailure failure(ScanWork work, String error) {
    return new RecordStepFailure(
        work.step(),
        work.domain(),
        work.attempt(),
        error,
        settings.backoffAfter(work.attempt()),
        scans.clock().instant());
  }

  /** One running scanner call; whichever comes first, its end or its timeout, settles it. */
  private static final class StepCall {
    private final Thread runner;
    private boolean settled;

    StepCall(Thread runner) {
      this.runner = runner;
    }

    /** Interrupts the call unless it has ended; inside the lock, so it cannot hit the next call. */
    synchronized boolean timeOut() {
      if (settled) {
        return false;
      }
      settled = true;
      runner.interrupt();
      return true;
    }

    synchronized boolean finish() {
      if (settled) {
        return false;
      }
      settled = true;
      return true;
    }
  }

  /**
   * Stops the subscription and the sweep, and interrupts running scanner calls; their attempts run
   * again on whichever node drives scans next.
   */
  @Override
  public void close() {
    closed = true;
    Subscription current = subscription;
    if (current != null) {
      current.stop();
    }
    sweeper.shutdownNow();
    timers.shutdownNow();
    recorders.shutdownNow(); // outcomes not yet recorded: their attempts run again
    driver.interrupt();
    workers.forEach(Thread::interrupt);
    try {
      sweeper.awaitTermination(JOIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      timers.awaitTermination(JOIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      recorders.awaitTermination(JOIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      driver.join(JOIN_TIMEOUT.toMillis());
      for (Thread worker : workers) {
        worker.join(JOIN_TIMEOUT.toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ThreadFactory named(String prefix) {
    AtomicInteger counter = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + counter.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
