package dev.eventscan.scan.lifecycle;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.aggregate.Aggregate;
import dev.eventscan.eventstore.aggregate.AggregateRepository;
import dev.eventscan.eventstore.aggregate.AggregateType;
import dev.eventscan.eventstore.aggregate.CommandMetadata;
import dev.eventscan.eventstore.serialization.JacksonEventSerializer;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.scan.lifecycle.ScanCommand.RequestScan;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Runs commands against scans through the event store's aggregate repository: load, decide, append
 * at the loaded version, and after a concurrent change load and decide again. Every event of a scan
 * carries the scan id as its correlation id.
 */
public final class Scans {
  private static final int CONFLICT_RETRIES = 10;

  private final AggregateRepository<ScanState, ScanEvent> repository;
  private final JacksonEventSerializer serializer;
  private final Clock clock;

  public Scans(EventStore store, Clock clock) {
    this.serializer = ScanEventTypes.serializer();
    this.repository = new AggregateRepository<>(store, TYPE, serializer, null, CONFLICT_RETRIES);
    this.clock = clock;
  }

  private static final AggregateType<ScanState, ScanEvent> TYPE =
      AggregateType.of(
          ScanEventTypes.CATEGORY,
          ScanState.class,
          ScanEvent.class,
          id -> ScanState.NONE,
          ScanState::apply);

  public Clock clock() {
    return clock;
  }

  /** A scan's state and the stream version it was read at. */
  public record LoadedScan(ScanState state, long version) {}

  /** Starts a new scan and returns its id. */
  public String request(RequestScan command) {
    String scanId = UUID.randomUUID().toString();
    repository.update(
        scanId, metadata(scanId), state -> ScanDecisions.decide(scanId, state, command));
    return scanId;
  }

  /** Applies a command; returns the events it produced (none when it repeated earlier work). */
  public List<ScanEvent> handle(String scanId, ScanCommand command) {
    return repository
        .update(
            scanId,
            metadata(scanId),
            state -> {
              if (!state.exists()) {
                throw new ScanNotFoundException(scanId);
              }
              return ScanDecisions.decide(scanId, state, command);
            })
        .appended();
  }

  public LoadedScan load(String scanId) {
    Aggregate<ScanState> scan = repository.load(scanId);
    return new LoadedScan(scan.state(), scan.version());
  }

  public ScanEvent deserialize(RecordedEvent recorded) {
    return (ScanEvent) serializer.deserialize(recorded);
  }

  private static CommandMetadata metadata(String scanId) {
    return new CommandMetadata(UUID.randomUUID().toString(), scanId, Map.of());
  }
}
