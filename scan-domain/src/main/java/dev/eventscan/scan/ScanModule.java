package dev.eventscan.scan;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.projection.Projections;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.eventstore.subscription.Subscriptions;
import dev.eventscan.scan.lifecycle.InvalidScanCommandException;
import dev.eventscan.scan.lifecycle.ScanCommand;
import dev.eventscan.scan.lifecycle.ScanDecisions;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import dev.eventscan.scan.lifecycle.ScanNotFoundException;
import dev.eventscan.scan.lifecycle.Scans;
import dev.eventscan.scan.process.ProcessSettings;
import dev.eventscan.scan.process.ScanProcessManager;
import dev.eventscan.scan.readmodel.ScanQueries;
import dev.eventscan.scan.readmodel.ScanReadModelProjection;
import dev.eventscan.scan.scanner.DomainScanner;
import dev.eventscan.scan.target.Target;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.flywaydb.core.Flyway;

/**
 * The scan domain wired together: its schema, the scan read models, the process manager and its
 * subscription. Start one per process; any number of processes may run against one database: the
 * process manager's segments are shared among them, so each drives its share of the scans (each
 * scan on one process at a time). The read model projection runs on one process at a time: it is
 * one transaction per batch of events, far from the bottleneck, and its rebuild and status are one
 * checkpoint's.
 */
public final class ScanModule implements AutoCloseable {
  private static final Pattern SCHEMA_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  public static final String PROCESS_MANAGER = "scan-process-manager";

  /**
   * @param schema the application schema holding the scan read models
   * @param scanners by name; requests name one of them
   * @param pollInterval how often subscriptions poll when no notification arrives
   */
  public record Settings(
      String schema,
      Map<String, DomainScanner> scanners,
      String defaultScanner,
      int defaultMaxRetries,
      ProcessSettings process,
      Duration pollInterval) {
    public Settings {
      if (schema == null || !SCHEMA_NAME.matcher(schema).matches()) {
        throw new IllegalArgumentException("schema must match " + SCHEMA_NAME);
      }
      scanners = Map.copyOf(scanners);
      if (!scanners.containsKey(defaultScanner)) {
        throw new IllegalArgumentException(
            "default scanner " + defaultScanner + " is not configured");
      }
      Objects.requireNonNull(process, "process");
    }
  }

  private final EventStore store;
  private final Settings settings;
  private final Scans scans;
  private final ScanQueries queries;
  private final Subscriptions subscriptions;
  private final Projections projections;
  private final ScanProcessManager processManager;

  private ScanModule(EventStore store, Settings settings, Clock clock) {
    this.store = store;
    this.settings = settings;
    migrate(store, settings.schema());
    this.scans = new Scans(store, clock);
    this.queries = new ScanQueries(store.dataSource(), settings.schema());
    this.subscriptions = store.subscriptions();
    this.projections = store.projections();
    projections.start(new ScanReadModelProjection(settings.schema(), scans::deserialize));
    this.processManager =
        new ScanProcessManager(
            scans, store.dataSource(), settings.scanners(), settings.process(), settings.schema());
    // A database whose process manager ran with another number of segments (an older version, a
    // changed setting) is moved over; refused, with a clear message, while an old node still runs.
    subscriptions.resegment(PROCESS_MANAGER, settings.process().segments());
    // No recovery here: each node sweeps the unfinished scans of the segments it owns.
    // The subscription keeps the table of unfinished scans and drives scans requested on other
    // nodes; this node's own requests and outcomes are driven at once, without it. So it may gather
    // what arrives within 25 ms into one transaction instead of one per few events under load.
    processManager.start(
        subscriptions,
        SubscriptionOptions.named(PROCESS_MANAGER)
            .filter(ScanProcessManager.EVENTS)
            .pollInterval(settings.pollInterval())
            .batchInterval(Duration.ofMillis(25))
            .segments(settings.process().segments()));
  }

  public static ScanModule start(EventStore store, Settings settings, Clock clock) {
    return new ScanModule(store, settings, clock);
  }

  /** Creates or upgrades the scan read models' tables (Flyway, own history table). */
  public static void migrate(EventStore store, String schema) {
    Flyway.configure()
        .dataSource(store.dataSource())
        .schemas(schema)
        .defaultSchema(schema)
        .table("scan_schema_history")
        .locations("classpath:db/scan")
        .placeholders(Map.of("schema", schema))
        .load()
        .migrate();
  }

  /**
   * Requests a scan. {@code scanner} and {@code maxRetries} may be null for the defaults.
   *
   * @throws dev.eventscan.scan.target.InvalidTargetException the target is not a domain name
   * @throws InvalidScanCommandException unknown scanner or retry limit out of range
   */
  public String requestScan(String target, String scanner, Integer maxRetries) {
    Target parsed = Target.parse(target);
    String scannerName = scanner == null ? settings.defaultScanner() : scanner;
    if (!settings.scanners().containsKey(scannerName)) {
      throw new InvalidScanCommandException(
          "scanner must be one of " + settings.scanners().keySet().stream().sorted().toList());
    }
    int retries = maxRetries == null ? settings.defaultMaxRetries() : maxRetries;
    if (retries < 0 || retries > ScanDecisions.MAX_RETRIES_LIMIT) {
      throw new InvalidScanCommandException(
          "maxRetries must be between 0 and " + ScanDecisions.MAX_RETRIES_LIMIT);
    }
    String scanId =
        scans.request(
            new ScanCommand.RequestScan(parsed, scannerName, retries, scans.clock().instant()));
    processManager.requested(scanId);
    return scanId;
  }

  /** Cancels a running scan; results that arrive later are ignored. */
  public void cancel(String scanId, String reason) {
    scans.handle(scanId, new ScanCommand.Cancel(reason, scans.clock().instant()));
  }

  /** The scan's events, oldest first. */
  public List<RecordedEvent> events(String scanId) {
    if (!scans.load(scanId).state().exists()) {
      throw new ScanNotFoundException(scanId);
    }
    return store.readStream(ScanEventTypes.streamId(scanId)).events();
  }

  public Scans scans() {
    return scans;
  }

  public ScanQueries queries() {
    return queries;
  }

  public Subscriptions subscriptions() {
    return subscriptions;
  }

  public Projections projections() {
    return projections;
  }

  public ScanProcessManager processManager() {
    return processManager;
  }

  public Settings settings() {
    return settings;
  }

  /** Stops driving scans (in-flight scanner calls are abandoned and rerun after a restart). */
  @Override
  public void close() {
    processManager.close();
    projections.close();
  }
}
