package dev.eventscan.scan.process;

import dev.eventscan.eventstore.internal.Jdbc;
import dev.eventscan.eventstore.stream.RecordedEvent;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives scans: for a scan that changed, works out from its state which scanner calls it waits for,
 * runs them on a bounded pool with a timeout, and records their results or failures as commands. It
 * keeps no state of its own beyond what is running now: after a restart, {@link #drive} on every
 * unfinished scan picks up exactly where the events say the scan is, and the scan's rules ignore
 * work recorded twice.
 */
public final class ScanProcessManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ScanProcessManager.class);

  private final Scans scans;
  private final String schema;
  private final Map<String, DomainScanner> scanners;
  private final ProcessSettings settings;
  private volatile ExecutorService workers;
  private final ScheduledExecutorService timers;
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final AtomicInteger queued = new AtomicInteger();
  private volatile boolean closed;

  public ScanProcessManager(
      Scans scans, Map<String, DomainScanner> scanners, ProcessSettings settings, String schema) {
    this.scans = scans;
    this.schema = schema;
    this.scanners = Map.copyOf(scanners);
    this.settings = settings;
    this.workers = Executors.newFixedThreadPool(settings.workers(), named("scan-worker"));
    this.timers = Executors.newSingleThreadScheduledExecutor(named("scan-timer"));
  }

  /** Event types after which a scan may wait for new scanner calls. */
  private static final Set<String> DRIVING_EVENTS =
      Set.of("ScanRequested", "DomainsDiscovered", "StepAttemptFailed");

  private static final Set<String> FINAL_EVENTS =
      Set.of("ScanCompleted", "ScanFailed", "ScanCancelled");

  /**
   * The process manager's subscription handler, run in the transaction that moves its checkpoint:
   * it keeps the table of unfinished scans (its durable memory) and drives scans on.
   */
  public void onEvent(RecordedEvent event, Connection transaction) throws SQLException {
    String scanId = event.streamId().substring(ScanEventTypes.CATEGORY.length() + 1);
    if (event.type().equals("ScanRequested")) {
      try (PreparedStatement insert =
          transaction.prepareStatement(
              "INSERT INTO %s.scan_in_flight (scan_id, requested_at) VALUES (?, ?) ON CONFLICT DO NOTHING"
                  .formatted(schema))) {
        insert.setString(1, scanId);
        insert.setTimestamp(2, java.sql.Timestamp.from(event.recordedAt()));
        insert.executeUpdate();
      }
    } else if (FINAL_EVENTS.contains(event.type())) {
      try (PreparedStatement delete =
          transaction.prepareStatement(
              "DELETE FROM %s.scan_in_flight WHERE scan_id = ?".formatted(schema))) {
        delete.setString(1, scanId);
        delete.executeUpdate();
      }
    }
    if (DRIVING_EVENTS.contains(event.type())) {
      drive(scanId);
    }
  }

  /** After a restart: drives every scan that had not finished. */
  public int recover(DataSource dataSource) {
    List<String> unfinished =
        Jdbc.withConnection(
            dataSource,
            "list unfinished scans",
            c -> {
              List<String> ids = new java.util.ArrayList<>();
              try (PreparedStatement select =
                      c.prepareStatement(
                          "SELECT scan_id FROM %s.scan_in_flight ORDER BY requested_at"
                              .formatted(schema));
                  ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                  ids.add(rows.getString(1));
                }
              }
              return ids;
            });
    unfinished.forEach(this::drive);
    return unfinished.size();
  }

  /** Scanner calls waiting for a worker (not yet running). */
  public int queued() {
    return Math.max(0, queued.get());
  }

  /**
   * Simulates the worker pool dying: running and queued scanner calls are abandoned, a new pool
   * takes over and every unfinished scan is driven again from its events. For fault injection.
   */
  public int crashWorkers(DataSource dataSource) {
    ExecutorService crashed = workers;
    workers = Executors.newFixedThreadPool(settings.workers(), named("scan-worker"));
    crashed.shutdownNow();
    inFlight.clear();
    queued.set(0);
    return recover(dataSource);
  }

  /** Scanner calls waiting for a worker or running now. */
  public int inFlight() {
    return inFlight.size();
  }

  /** Looks at the scan's state and starts whatever it is waiting for. Safe to call repeatedly. */
  public void drive(String scanId) {
    if (closed) {
      return;
    }
    ScanState state = scans.load(scanId).state();
    for (ScanWork work : ScanWork.pending(state)) {
      if (!inFlight.add(work.key())) {
        continue; // already queued or running here
      }
      long delay =
          work.due() == null
              ? 0
              : Math.max(0, Duration.between(scans.clock().instant(), work.due()).toMillis());
      try {
        timers.schedule(() -> submit(state, work), delay, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        inFlight.remove(work.key()); // shutting down
      }
    }
  }

  private void submit(ScanState state, ScanWork work) {
    try {
      queued.incrementAndGet();
      AtomicBoolean settled = new AtomicBoolean();
      Future<?> call = workers.submit(() -> run(state, work, settled));
      timers.schedule(
          () -> {
            if (!call.isDone() && settled.compareAndSet(false, true)) {
              call.cancel(true);
              recordSafely(work, failure(work, "timed out after " + settings.stepTimeout()));
            }
          },
          settings.stepTimeout().toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      inFlight.remove(work.key());
    }
  }

  private void run(ScanState state, ScanWork work, AtomicBoolean settled) {
    queued.decrementAndGet();
    try {
      if (work.start() && !recordStart(work)) {
        settled.set(true);
        inFlight.remove(work.key());
        return; // the scan moved on (cancelled, or someone else started this attempt)
      }
      DomainScanner scanner = scanners.get(state.scanner());
      if (scanner == null) {
        throw new IllegalStateException("no scanner named " + state.scanner() + " is configured");
      }
      ScanCommand result;
      try {
        result = callScanner(scanner, state, work);
      } catch (RuntimeException e) {
        result = failure(work, e.getMessage() == null ? e.toString() : e.getMessage());
      }
      if (settled.compareAndSet(false, true)) {
        recordSafely(work, result);
      }
    } catch (RuntimeException e) {
      settled.set(true);
      inFlight.remove(work.key());
      log.warn(
          "Scan {}: {} attempt {} could not be recorded; it runs again on the next drive",
          work.scanId(),
          work.step(),
          work.attempt(),
          e);
    }
  }

  private boolean recordStart(ScanWork work) {
    Instant now = scans.clock().instant();
    ScanCommand start =
        work.step() == ScanStep.DOMAIN_DISCOVERY
            ? new StartDomainDiscovery(work.attempt(), now)
            : new StartSubdomainDiscovery(work.domain(), work.attempt(), now);
    List<ScanEvent> events = scans.handle(work.scanId(), start);
    return !events.isEmpty();
  }

  private ScanCommand callScanner(DomainScanner scanner, ScanState state, ScanWork work) {
    Instant now;
    if (work.step() == ScanStep.DOMAIN_DISCOVERY) {
      DomainDiscovery found = scanner.discoverDomains(Target.parse(state.target()));
      now = scans.clock().instant();
      return new RecordDomains(found.domains(), now);
    }
    SubdomainDiscovery found = scanner.discoverSubdomains(work.domain());
    now = scans.clock().instant();
    return new RecordSubdomains(work.domain(), found.findings(), found.wildcard(), now);
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

  /** Records the outcome; the resulting event drives the scan on through the subscription. */
  private void recordSafely(ScanWork work, ScanCommand outcome) {
    try {
      scans.handle(work.scanId(), outcome);
    } catch (RuntimeException e) {
      log.warn(
          "Scan {}: recording {} failed", work.scanId(), outcome.getClass().getSimpleName(), e);
    } finally {
      inFlight.remove(work.key());
    }
  }

  /** Stops taking work and interrupts running scanner calls; their attempts rerun after restart. */
  @Override
  public void close() {
    closed = true;
    timers.shutdownNow();
    workers.shutdownNow();
    try {
      workers.awaitTermination(10, TimeUnit.SECONDS);
      timers.awaitTermination(10, TimeUnit.SECONDS);
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
