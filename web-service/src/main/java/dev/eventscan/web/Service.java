package dev.eventscan.web;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.statistics.EventStatistics;
import dev.eventscan.eventstore.statistics.StatisticsProjection;
import dev.eventscan.scan.ScanModule;
import dev.eventscan.scan.process.ProcessSettings;
import dev.eventscan.scan.scanner.DnsScanner;
import dev.eventscan.scan.scanner.DomainScanner;
import dev.eventscan.scan.scanner.SimulatedScanner;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Everything the service runs, started in dependency order and closed in reverse. */
public final class Service implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Service.class);

  /** The scan module's tables and read models. */
  static final String SCAN_SCHEMA = "scan";

  /** The console's own tables (event rates): the web service's app projection. */
  static final String CONSOLE_SCHEMA = "console";

  private final Database database;
  private final EventStore store;
  private final ScanModule scans;
  private final WebApp web;

  private Service(Database database, EventStore store, ScanModule scans, WebApp web) {
    this.database = database;
    this.store = store;
    this.scans = scans;
    this.web = web;
  }

  public static Service start(Config config) throws IOException {
    Database database = Database.open(config);
    AdjustableScanner simulation = new AdjustableScanner(Duration.ofMillis(150), 0.2);
    try {
      EventStore store = EventStore.builder(database.dataSource()).build();
      ScanModule scans =
          ScanModule.start(
              store,
              new ScanModule.Settings(
                  SCAN_SCHEMA,
                  scanners(config, simulation),
                  config.scanner(),
                  config.maxRetries(),
                  new ProcessSettings(
                      config.workerPoolSize(),
                      Duration.ofSeconds(30),
                      Duration.ofMillis(500),
                      Duration.ofSeconds(10)),
                  Duration.ofMillis(500)),
              Clock.systemUTC());
      RateLimiter.migrate(database.dataSource(), SCAN_SCHEMA);
      scans.projections().start(new StatisticsProjection(store.schema()));
      EventRates.migrate(database.dataSource(), CONSOLE_SCHEMA);
      scans.projections().start(new EventRateProjection(CONSOLE_SCHEMA));
      EventStatistics statistics = store.statistics();
      PrometheusMeterRegistry metrics = metrics(store, scans);
      WebApp web =
          new WebApp(
              config,
              store,
              scans,
              statistics,
              metrics,
              hub -> new Simulator(scans, simulation, database.dataSource(), hub, metrics));
      Gauge.builder("sse_clients", web.hub(), LiveHub::clients).register(metrics);
      Gauge.builder("sse_queued_bytes", SseStream.queuedBytes, Number::doubleValue)
          .description("bytes waiting in live clients' queues")
          .register(metrics);
      // One counter per category, looked up in the registry once (this runs for every event).
      Map<String, Counter> appended = new ConcurrentHashMap<>();
      web.hub()
          .observe(
              event ->
                  appended
                      .computeIfAbsent(
                          event.category(),
                          category ->
                              metrics.counter(
                                  "eventstore_events_appended_total", "category", category))
                      .increment());
      web.start(config.bindAddress(), config.port());
      return new Service(database, store, scans, web);
    } catch (RuntimeException | Error e) {
      database.close();
      throw e;
    }
  }

  private static Map<String, DomainScanner> scanners(Config config, AdjustableScanner simulation) {
    return Map.of(
        "simulation", simulation,
        "simulated", new SimulatedScanner(20261123, Duration.ofMillis(150), 0.2),
        "dns", new DnsScanner(config.dnsResolver(), Duration.ofSeconds(2), 16));
  }

  private static PrometheusMeterRegistry metrics(EventStore store, ScanModule scans) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    Gauge.builder("eventstore_barrier_age_seconds", store, s -> s.barrierAge().toMillis() / 1000.0)
        .description("how long the oldest running write transaction holds global readers back")
        .register(registry);
    Gauge.builder(
            "eventstore_subscription_lag_max",
            scans,
            s -> s.subscriptions().list().stream().mapToLong(x -> x.lag()).max().orElse(0))
        .description("largest estimated subscription lag, in events")
        .register(registry);
    Gauge.builder("scan_steps_in_flight", scans, s -> s.processManager().inFlight())
        .register(registry);
    return registry;
  }

  public int port() {
    return web.port();
  }

  /** Every HTTP route as "METHOD path". */
  java.util.List<String> routes() {
    return web.routes();
  }

  /** Connected server-sent-event clients. */
  public int liveClients() {
    return web.hub().clients();
  }

  WebApp web() {
    return web;
  }

  Database database() {
    return database;
  }

  EventStore store() {
    return store;
  }

  ScanModule scans() {
    return scans;
  }

  /** Stops accepting requests and closes live streams, then background work, then PostgreSQL. */
  @Override
  public void close() {
    log.info("Shutting down");
    web.close();
    scans.close();
    store.close();
    database.close();
  }
}
