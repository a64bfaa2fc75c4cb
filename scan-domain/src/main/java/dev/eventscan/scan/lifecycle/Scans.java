package dev.eventscan.scan.lifecycle;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.aggregate.Aggregate;
import dev.eventscan.eventstore.aggregate.AggregateRepository;
import dev.eventscan.eventstore.aggregate.AggregateType;
import dev.eventscan.eventstore.aggregate.CommandMetadata;
import dev.eventscan.eventstore.aggregate.UpdateResult;
import dev.eventscan.eventstore.serialization.JacksonEventSerializer;
import dev.eventscan.eventstore.stream.ReadDirection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamSlice;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import dev.eventscan.scan.lifecycle.ScanCommand.RequestScan;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs commands against scans through the event store's aggregate repository: load, decide, append
 * at the loaded version, and after a concurrent change load and decide again. Every event of a scan
 * carries the scan id as its correlation id.
 *
 * <p>The last state seen of each unfinished scan is kept with its stream version: a load reads only
 * the events after it, and a command decides on it and appends at its version without reading
 * first. Events never change, so a state at version n is always right for version n; if the stream
 * has moved on since, the append's expected version refuses it and the command loads and decides
 * again.
 */
public final class Scans {
  private static final int CONFLICT_RETRIES = 10;
  private static final int PAGE = 1_000;

  /** Unfinished scans whose state is kept; past this, the cache starts over (loads refill it). */
  private static final int CACHED_SCANS = 10_000;

  private final EventStore store;
  private final Map<String, Aggregate<ScanState>> latest = new ConcurrentHashMap<>();
  private final AggregateRepository<ScanState, ScanEvent> repository;
  private final JacksonEventSerializer serializer;
  private final Clock clock;

  public Scans(EventStore store, Clock clock) {
    this.store = store;
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

  /**
   * Starts a new scan and returns its id. A fresh random id has no stream yet, so the request is
   * decided on the initial state and appended at version 0 without reading first.
   */
  public String request(RequestScan command) {
    String scanId = UUID.randomUUID().toString();
    if (appendAtKnownVersion(new Aggregate<>(scanId, ScanState.NONE, 0), command).isEmpty()) {
      remember(
          repository
              .update(
                  scanId, metadata(scanId), state -> ScanDecisions.decide(scanId, state, command))
              .aggregate());
    }
    return scanId;
  }

  /** Applies a command; returns the events it produced (none when it repeated earlier work). */
  public List<ScanEvent> handle(String scanId, ScanCommand command) {
    Aggregate<ScanState> known = latest.get(scanId);
    if (known != null) {
      Optional<List<ScanEvent>> appended = appendAtKnownVersion(known, command);
      if (appended.isPresent()) {
        return appended.get();
      }
    }
    UpdateResult<ScanState, ScanEvent> result =
        repository.update(
            scanId,
            metadata(scanId),
            state -> {
              if (!state.exists()) {
                throw new ScanNotFoundException(scanId);
              }
              return ScanDecisions.decide(scanId, state, command);
            });
    remember(result.aggregate());
    return result.appended();
  }

  /**
   * Decides on the known state and appends at its version. Empty when that settles nothing: the
   * stream moved on (a conflict), or the decision on a possibly old state appended nothing or
   * refused, which only the current state may confirm.
   */
  private Optional<List<ScanEvent>> appendAtKnownVersion(
      Aggregate<ScanState> known, ScanCommand command) {
    List<ScanEvent> events;
    try {
      events = ScanDecisions.decide(known.id(), known.state(), command);
    } catch (RuntimeException refusedOnKnownState) {
      return Optional.empty();
    }
    if (events.isEmpty()) {
      return Optional.empty();
    }
    try {
      remember(repository.save(known, events, metadata(known.id())));
      return Optional.of(events);
    } catch (WrongExpectedVersionException movedOn) {
      return Optional.empty();
    }
  }

  /** The scan's current state: the known one plus the events after it. */
  public LoadedScan load(String scanId) {
    Aggregate<ScanState> known = latest.get(scanId);
    Aggregate<ScanState> current = known == null ? repository.load(scanId) : catchUp(known);
    remember(current);
    return new LoadedScan(current.state(), current.version());
  }

  private Aggregate<ScanState> catchUp(Aggregate<ScanState> known) {
    String streamId = ScanEventTypes.streamId(known.id());
    ScanState state = known.state();
    long version = known.version();
    while (true) {
      StreamSlice slice = store.readStream(streamId, version + 1, PAGE, ReadDirection.FORWARDS);
      for (RecordedEvent recorded : slice.events()) {
        state = state.apply(deserialize(recorded));
        version = recorded.streamVersion();
      }
      if (slice.endOfStream()) {
        return new Aggregate<>(known.id(), state, version);
      }
    }
  }

  /** Keeps the newest state of an unfinished scan; a finished one needs no more commands. */
  private void remember(Aggregate<ScanState> aggregate) {
    if (aggregate.state() instanceof ScanState.Finished || !aggregate.state().exists()) {
      latest.remove(aggregate.id());
      return;
    }
    if (latest.size() >= CACHED_SCANS) {
      latest.clear();
    }
    latest.merge(
        aggregate.id(), aggregate, (old, fresh) -> fresh.version() > old.version() ? fresh : old);
  }

  public ScanEvent deserialize(RecordedEvent recorded) {
    return (ScanEvent) serializer.deserialize(recorded);
  }

  private static CommandMetadata metadata(String scanId) {
    return new CommandMetadata(UUID.randomUUID().toString(), scanId, Map.of());
  }
}
