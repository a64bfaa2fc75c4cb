package dev.eventscan.web;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.projection.Projection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.scan.ScanModule;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/**
 * Generates scans at a set rate for a set time, counts how they end (from the live feed), and
 * injects faults: a projection that throws for a share of events, and a crash of the process
 * manager's workers. Reset clears the statistics window; the events stay.
 */
final class Simulator implements AutoCloseable {
  static final String FAULTY_PROJECTION = "simulation-faults";

  /** Past the highest rate {@code benchmarks/run simulator-max-rate} tries (600/s). */
  static final int MAX_RATE = 1_000;

  static final int MAX_DURATION_SECONDS = 3_600;

  /**
   * Requests appended at once, at most: at 400/s and 20 ms an append, 8 are busy on average, and
   * from 16 in flight the store gathers appends into shared commits.
   */
  private static final int REQUESTERS = 32;

  /** A run: scans per second, for how long, and the share of scanner calls that fail. */
  record Plan(double ratePerSecond, Duration duration, double failureRate) {}

  /** A second run was asked for while one is going. */
  static final class AlreadyRunningException extends RuntimeException {
    AlreadyRunningException() {
      super("the simulation is already running; stop it first");
    }
  }

  private final ScanModule scans;
  private final AdjustableScanner scanner;
  private final DataSource dataSource;
  private final Set<String> window = ConcurrentHashMap.newKeySet();
  private final AtomicLong produced = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final Deque<String> latest = new ArrayDeque<>();
  private final Timer appendLatency;
  private volatile Thread generator;
  private volatile double rate;
  private volatile boolean projectionFaults;
  private volatile double faultShare = 0.2;

  Simulator(
      ScanModule scans,
      AdjustableScanner scanner,
      DataSource dataSource,
      LiveHub live,
      MeterRegistry metrics) {
    this.appendLatency =
        Timer.builder("simulator_request_append_seconds")
            .description("appending a simulated scan request")
            .publishPercentiles(0.5, 0.99)
            .register(metrics);
    Gauge.builder("simulator_produced", produced, AtomicLong::get).register(metrics);
    Gauge.builder("simulator_completed", completed, AtomicLong::get).register(metrics);
    Gauge.builder("simulator_failed", failed, AtomicLong::get).register(metrics);
    Gauge.builder("simulator_backlog", scans, s -> s.processManager().queued()).register(metrics);
    this.scans = scans;
    this.scanner = scanner;
    this.dataSource = dataSource;
    live.observe(this::observe);
  }

  synchronized Map<String, Object> start(Plan plan) {
    if (generator != null && generator.isAlive()) {
      throw new AlreadyRunningException();
    }
    scanner.failureRate(plan.failureRate());
    rate = plan.ratePerSecond();
    Thread thread = new Thread(() -> generate(plan.ratePerSecond(), plan.duration()), "simulator");
    thread.setDaemon(true);
    generator = thread;
    thread.start();
    return status();
  }

  /**
   * Paces requests on this thread and appends them on a small pool, so the rate holds even when
   * single appends slow down (each one waits for its commit).
   */
  private void generate(double ratePerSecond, Duration duration) {
    ExecutorService requesters = Executors.newFixedThreadPool(REQUESTERS);
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    long period = (long) (1e9 / ratePerSecond);
    try {
      for (long n = 0; !Thread.currentThread().isInterrupted(); n++) {
        long slot = start + n * period;
        if (slot >= end) {
          break;
        }
        long wait = slot - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        if (Thread.currentThread().isInterrupted()) {
          break;
        }
        long number = n;
        requesters.execute(() -> request(number));
      }
    } finally {
      // Stopped or done: requests already handed out still finish (and count) before the
      // generator ends, so "stopped" means nothing more will be produced.
      boolean interrupted = Thread.interrupted();
      requesters.shutdown();
      try {
        requesters.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        interrupted = true;
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void request(long number) {
    long requested = System.nanoTime();
    String id = scans.requestScan("sim" + (number % 100_000) + ".example", "simulation", 3);
    appendLatency.record(System.nanoTime() - requested, TimeUnit.NANOSECONDS);
    window.add(id);
    produced.incrementAndGet();
    synchronized (latest) {
      latest.addFirst(id);
      while (latest.size() > 50) {
        latest.removeLast();
      }
    }
  }

  private void observe(RecordedEvent event) {
    if (!event.category().equals("scan")) {
      return;
    }
    String scanId = event.streamId().substring("scan-".length());
    if (!window.contains(scanId)) {
      return;
    }
    switch (event.type()) {
      case ScanEventTypes.SCAN_COMPLETED -> completed.incrementAndGet();
      case ScanEventTypes.SCAN_FAILED, ScanEventTypes.SCAN_CANCELLED -> failed.incrementAndGet();
      default -> {}
    }
  }

  synchronized Map<String, Object> stop() {
    Thread thread = generator;
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join(35_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return status();
  }

  synchronized Map<String, Object> reset() {
    stop();
    window.clear();
    produced.set(0);
    completed.set(0);
    failed.set(0);
    synchronized (latest) {
      latest.clear();
    }
    return status();
  }

  Map<String, Object> status() {
    Map<String, Object> status = new LinkedHashMap<>();
    boolean running = generator != null && generator.isAlive();
    long done = completed.get() + failed.get();
    status.put("running", running);
    status.put("ratePerSecond", rate);
    status.put("produced", produced.get());
    status.put("completed", completed.get());
    status.put("failed", failed.get());
    status.put("inFlight", Math.max(0, produced.get() - done));
    status.put("backlog", scans.processManager().queued());
    status.put("projectionFaults", projectionFaults);
    var snapshot = appendLatency.takeSnapshot();
    double p50 = 0;
    double p99 = 0;
    for (var percentile : snapshot.percentileValues()) {
      if (percentile.percentile() == 0.5) {
        p50 = percentile.value(java.util.concurrent.TimeUnit.MILLISECONDS);
      } else if (percentile.percentile() == 0.99) {
        p99 = percentile.value(java.util.concurrent.TimeUnit.MILLISECONDS);
      }
    }
    status.put("appendLatencyP50Ms", p50);
    status.put("appendLatencyP99Ms", p99);
    status.put(
        "projectionLag",
        scans.projections().statuses().stream().mapToLong(p -> p.lag()).max().orElse(0));
    synchronized (latest) {
      status.put("latest", List.copyOf(latest));
    }
    status.put("at", Instant.now());
    return status;
  }

  /** Null leaves a setting as it is. */
  synchronized Map<String, Object> faults(Boolean failingProjection, Double share) {
    if (share != null) {
      faultShare = share;
    }
    if (failingProjection != null) {
      projectionFaults = failingProjection;
      // Registered only when someone asks for faults, so a normal start runs no test projection.
      if (failingProjection && !scans.projections().isRegistered(FAULTY_PROJECTION)) {
        scans.projections().start(new FaultyProjection());
      }
    }
    return Map.of("failingProjection", projectionFaults, "failureShare", faultShare);
  }

  Map<String, Object> crashWorkers() {
    int resumed = scans.processManager().crashWorkers(dataSource);
    return Map.of("crashed", true, "scansResumed", resumed);
  }

  @Override
  public void close() {
    stop();
  }

  /**
   * A projection that throws for a share of scan events while faults are on: retries, then parks.
   */
  private final class FaultyProjection implements Projection {
    @Override
    public String name() {
      return FAULTY_PROJECTION;
    }

    @Override
    public EventFilter filter() {
      return EventFilter.categories("scan");
    }

    @Override
    public void project(RecordedEvent event, Connection transaction) {
      if (projectionFaults && ThreadLocalRandom.current().nextDouble() < faultShare) {
        throw new IllegalStateException("injected projection fault on " + event.type());
      }
    }

    @Override
    public void reset(Connection transaction) {}
  }
}
