package dev.eventscan.scan.lifecycle;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.serialization.EventSerializer;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import dev.eventscan.scan.lifecycle.ScanCommand.RequestScan;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Runs commands against scans: load the scan from its stream, decide, append with the loaded
 * version, and on a concurrent change reload and decide again. Every event of a scan carries the
 * scan id as its correlation id.
 */
public final class Scans {
  private static final int CONFLICT_RETRIES = 5;

  private final EventStore store;
  private final EventSerializer serializer;
  private final Clock clock;

  public Scans(EventStore store, Clock clock) {
    this.store = store;
    this.serializer = ScanEventTypes.serializer();
    this.clock = clock;
  }

  public Clock clock() {
    return clock;
  }

  /** A scan's state and the stream version it was read at. */
  public record LoadedScan(ScanState state, long version) {}

  /** Starts a new scan and returns its id. */
  public String request(RequestScan command) {
    String scanId = UUID.randomUUID().toString();
    append(
        scanId, ExpectedVersion.noStream(), ScanDecisions.decide(scanId, ScanState.NONE, command));
    return scanId;
  }

  /** Applies a command; returns the events it produced (none when it repeated earlier work). */
  public List<ScanEvent> handle(String scanId, ScanCommand command) {
    for (int attempt = 0; ; attempt++) {
      LoadedScan loaded = load(scanId);
      if (!loaded.state().exists()) {
        throw new ScanNotFoundException(scanId);
      }
      List<ScanEvent> events = ScanDecisions.decide(scanId, loaded.state(), command);
      if (events.isEmpty()) {
        return events;
      }
      try {
        append(scanId, ExpectedVersion.exactly(loaded.version()), events);
        return events;
      } catch (WrongExpectedVersionException conflict) {
        if (attempt >= CONFLICT_RETRIES) {
          throw conflict;
        }
      }
    }
  }

  public LoadedScan load(String scanId) {
    ScanState state = ScanState.NONE;
    long version = 0;
    for (RecordedEvent recorded : store.readStream(ScanEventTypes.streamId(scanId)).events()) {
      state = state.apply((ScanEvent) serializer.deserialize(recorded));
      version = recorded.streamVersion();
    }
    return new LoadedScan(state, version);
  }

  public ScanEvent deserialize(RecordedEvent recorded) {
    return (ScanEvent) serializer.deserialize(recorded);
  }

  private void append(String scanId, ExpectedVersion expected, List<ScanEvent> events) {
    List<EventData> data = new ArrayList<>(events.size());
    for (ScanEvent event : events) {
      data.add(serializer.serialize(event, EventMetadata.correlated(scanId, null)));
    }
    store.append(ScanEventTypes.streamId(scanId), expected, data);
  }
}
