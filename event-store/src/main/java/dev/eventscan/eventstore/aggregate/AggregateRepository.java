package dev.eventscan.eventstore.aggregate;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.EventStoreException;
import dev.eventscan.eventstore.serialization.EventSerializer;
import dev.eventscan.eventstore.snapshot.Snapshot;
import dev.eventscan.eventstore.snapshot.SnapshotStore;
import dev.eventscan.eventstore.stream.DuplicateEventIdException;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.ReadDirection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamIds;
import dev.eventscan.eventstore.stream.StreamSlice;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads aggregates (snapshot plus the events after it) and saves their new events with the version
 * they were loaded at, so concurrent changes are detected, never lost.
 */
public final class AggregateRepository<S, E> {
  private static final Logger log = LoggerFactory.getLogger(AggregateRepository.class);
  private static final int PAGE = 1_000;

  /** Reloads and decides again this often after a concurrent change before giving up. */
  public static final int DEFAULT_CONFLICT_RETRIES = 5;

  private final EventStore store;
  private final AggregateType<S, E> type;
  private final EventSerializer serializer;
  private final SnapshotStore snapshots;
  private final int maxConflictRetries;

  /**
   * @param snapshots null to never use snapshots
   * @param maxConflictRetries how often {@link #update} reloads and decides again after a
   *     concurrent change before it gives up
   */
  public AggregateRepository(
      EventStore store,
      AggregateType<S, E> type,
      EventSerializer serializer,
      SnapshotStore snapshots,
      int maxConflictRetries) {
    if (maxConflictRetries < 0) {
      throw new IllegalArgumentException("maxConflictRetries must not be negative");
    }
    this.store = store;
    this.type = type;
    this.serializer = serializer;
    this.snapshots = snapshots;
    this.maxConflictRetries = maxConflictRetries;
  }

  /** The aggregate's current state; a never-saved aggregate comes back new, at version 0. */
  public Aggregate<S> load(String id) {
    String streamId = streamId(id);
    S state = type.initialState(id);
    long version = 0;
    Optional<Snapshot<S>> snapshot = loadSnapshot(streamId);
    if (snapshot.isPresent()) {
      state = snapshot.get().state();
      version = snapshot.get().streamVersion();
    }
    while (true) {
      StreamSlice slice = store.readStream(streamId, version + 1, PAGE, ReadDirection.FORWARDS);
      if (snapshot.isPresent() && slice.streamVersion() < snapshot.get().streamVersion()) {
        // A snapshot of versions the stream does not have (restored from another backup, say):
        // trust the events, never the snapshot.
        log.warn(
            "Ignoring the snapshot of {} at version {}: the stream is at {}",
            streamId,
            snapshot.get().streamVersion(),
            slice.streamVersion());
        snapshot = Optional.empty();
        state = type.initialState(id);
        version = 0;
        continue;
      }
      for (RecordedEvent recorded : slice.events()) {
        state = type.apply(state, type.eventType().cast(serializer.deserialize(recorded)));
        version = recorded.streamVersion();
      }
      if (slice.endOfStream()) {
        return new Aggregate<>(id, state, version);
      }
    }
  }

  /**
   * Appends {@code events} to an aggregate loaded at {@code loaded.version()}; returns the
   * aggregate after them.
   *
   * @throws WrongExpectedVersionException someone else changed it since it was loaded
   */
  public Aggregate<S> save(Aggregate<S> loaded, List<E> events, CommandMetadata metadata) {
    if (events.isEmpty()) {
      return loaded;
    }
    String streamId = streamId(loaded.id());
    List<EventData> data = new ArrayList<>(events.size());
    S state = loaded.state();
    for (E event : events) {
      EventData serialized = serializer.serialize(event, metadata.eventMetadata());
      if (metadata.deterministicEventIds()) {
        serialized =
            new EventData(
                metadata.eventId(streamId, data.size()),
                serialized.type(),
                serialized.data(),
                serialized.metadata());
      }
      data.add(serialized);
      state = type.apply(state, event);
    }
    long version =
        store.append(streamId, ExpectedVersion.exactly(loaded.version()), data).streamVersion();
    Aggregate<S> saved = new Aggregate<>(loaded.id(), state, version);
    if (snapshots != null && type.snapshotPolicy().due(loaded.version(), version)) {
      saveSnapshot(saved);
    }
    return saved;
  }

  /**
   * Loads, decides and saves; after a concurrent change, waits a random moment (so competing
   * writers fall out of step), loads and decides again, at most {@code maxConflictRetries} more
   * times, then rethrows the conflict. A {@link CommandRejectedException} from the decision is
   * never retried: it passes straight to the caller, and nothing is appended. With {@link
   * CommandMetadata#withDeterministicEventIds()}, a command that was appended before appends
   * nothing and returns the aggregate as it is, with no events.
   */
  public UpdateResult<S, E> update(String id, CommandMetadata metadata, Decision<S, E> decision) {
    for (int attempt = 0; ; attempt++) {
      Aggregate<S> loaded = load(id);
      List<E> events = decision.decide(loaded.state());
      try {
        return new UpdateResult<>(save(loaded, events, metadata), events);
      } catch (DuplicateEventIdException sentBefore) {
        if (!metadata.deterministicEventIds()) {
          throw sentBefore;
        }
        // Ids derived from this stream and command id exist: this command was appended before.
        return new UpdateResult<>(load(id), List.of());
      } catch (WrongExpectedVersionException conflict) {
        if (attempt >= maxConflictRetries) {
          throw conflict;
        }
        LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(1, (attempt + 1) * 2_000_000L));
      }
    }
  }

  private String streamId(String id) {
    if (id == null || id.isBlank()) {
      throw new dev.eventscan.eventstore.InvalidInputException("aggregate id must not be blank");
    }
    String streamId = type.streamId(id);
    StreamIds.requireValid(streamId);
    return streamId;
  }

  private Optional<Snapshot<S>> loadSnapshot(String streamId) {
    if (snapshots == null || !type.snapshotPolicy().enabled()) {
      return Optional.empty();
    }
    try {
      return snapshots.load(streamId, type.stateType(), type.snapshotSchemaVersion());
    } catch (EventStoreException e) {
      log.warn("Ignoring unreadable snapshot of {}; replaying all events", streamId, e);
      return Optional.empty();
    }
  }

  /** After the append committed, and never failing the command: a snapshot is an optimization. */
  private void saveSnapshot(Aggregate<S> aggregate) {
    try {
      snapshots.save(
          new Snapshot<>(
              streamId(aggregate.id()),
              aggregate.version(),
              type.snapshotSchemaVersion(),
              aggregate.state()));
    } catch (RuntimeException e) {
      log.warn("Snapshot of {} at version {} not saved", aggregate.id(), aggregate.version(), e);
    }
  }
}
