package dev.eventscan.scan;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.scan.process.ProcessSettings;
import dev.eventscan.scan.readmodel.ScanSummary;
import dev.eventscan.scan.scanner.DomainScanner;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Starts scan modules the way the tests need them, and closes them all after each test. */
final class TestModules implements AutoCloseable {
  static final String SCHEMA = "scan";
  private final List<ScanModule> started = new ArrayList<>();
  private final java.util.Map<ScanModule, EventStore> nodes = new java.util.HashMap<>();

  /**
   * A module in schema {@value #SCHEMA}, retrying 3 times by default, polling every 100 ms, on an
   * event store of its own over the same database: each module is a node, as in production.
   */
  ScanModule start(
      EventStore store,
      Map<String, DomainScanner> scanners,
      String defaultScanner,
      ProcessSettings process) {
    EventStore node =
        EventStore.builder(store.dataSource()).schema(store.schema()).migrate(false).build();
    ScanModule module =
        ScanModule.start(
            node,
            new ScanModule.Settings(
                SCHEMA, scanners, defaultScanner, 3, process, Duration.ofMillis(100)),
            Clock.systemUTC());
    started.add(module);
    nodes.put(module, node);
    return module;
  }

  void stop(ScanModule module) {
    module.close();
    nodes.remove(module).close();
    started.remove(module);
  }

  static String status(ScanModule module, String scanId) {
    return module.queries().get(scanId).map(ScanSummary::status).orElse("NONE");
  }

  @Override
  public void close() {
    List.copyOf(started).forEach(this::stop);
  }
}
