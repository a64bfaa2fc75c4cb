package dev.eventscan.scan.lifecycle;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.aggregate.Aggregate;
import dev.eventscan.eventstore.aggregate.AggregateRepository;
import dev.eventscan.eventstore.aggregate.AggregateType;
import dev.eventscan.eventstore.aggregate.CommandMetadata;
import dev.eventscan.eventstore.serialization.JacksonEventSerializer;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.ReadDirection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamSlice;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import dev.eventscan.scan.lifecycle.OneBatchAtATime.Waiting;
import dev.eventscan.scan.lifecycle.ScanCommand.RequestScan;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * Runs commands against scans: decide on the scan's state, append at its version, and after a
 * concurrent change read the newer events and decide again. Every event of a scan carries the scan
 * id as its correlation id, and its command's id as its causation id.
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
  private final OneBatchAtATime<Order, Executed> batches =
      new OneBatchAtATime<>(this::decideAndAppend);

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
    return execute(scanId, command).events();
  }

  /**
   * What a command did: its own events (none when it repeated earlier work), and the scan's state
   * and version right after the append that carried them, which is the current state at that
   * moment.
   */
  public record Executed(List<ScanEvent> events, ScanState state, long version) {}

  /**
   * Applies a command. Commands for one scan on this node never race each other: those that arrive
   * while one append of the scan is under way are decided together, in order, and appended as one
   * (each event still carries its own command's id).
   *
   * @throws ScanNotFoundException no such scan
   * @throws InvalidScanTransitionException the command is not valid in the scan's current state
   */
  public Executed execute(String scanId, ScanCommand command) {
    return execute(scanId, command, state -> List.of());
  }

  /**
   * Applies a command and, if it appended something, the commands {@code then} asks for on the
   * state it leaves, in the same append: what a command makes due is recorded with it. A follow-up
   * that is refused or repeats earlier work adds nothing; {@link Executed#events()} holds both.
   */
  public Executed execute(
      String scanId, ScanCommand command, Function<ScanState, List<ScanCommand>> then) {
    return batches.submit(scanId, new Order(command, then));
  }

  /** A command and what follows from the state it leaves. */
  private record Order(ScanCommand command, Function<ScanState, List<ScanCommand>> then) {}

  /**
   * Decides the waiting commands on the known state and appends all their events at its version.
   * Reads the stream only when that settles nothing: the stream moved on (a conflict), or every
   * decision on a state that may be old appended nothing or refused, which only the current state
   * may confirm. An append at the known version proves that state was current, refusals included.
   */
  private void decideAndAppend(String scanId, List<Waiting<Order, Executed>> batch) {
    Aggregate<ScanState> known = latest.get(scanId);
    boolean current = known == null;
    if (current) {
      known = repository.load(scanId);
    }
    for (int conflicts = 0; ; ) {
      Decisions decisions = Decisions.on(known, batch);
      if (decisions.appendsNothing() && !current) {
        known = catchUp(known);
        current = true;
        continue;
      }
      try {
        Aggregate<ScanState> after = decisions.appendsNothing() ? known : append(known, decisions);
        remember(after);
        decisions.complete(after);
        return;
      } catch (WrongExpectedVersionException movedOn) {
        if (++conflicts > CONFLICT_RETRIES) {
          throw movedOn;
        }
        // Another node appended: a random pause lets competing nodes fall out of step.
        LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(1, conflicts * 2_000_000L));
        known = catchUp(known);
        current = true;
      }
    }
  }

  /** Each waiting command's events, or why it was refused, decided in order from one state. */
  private record Decisions(
      Aggregate<ScanState> from,
      List<Waiting<Order, Executed>> batch,
      List<List<ScanEvent>> events,
      List<RuntimeException> refusals) {

    static Decisions on(Aggregate<ScanState> from, List<Waiting<Order, Executed>> batch) {
      List<List<ScanEvent>> events = new ArrayList<>();
      List<RuntimeException> refusals = new ArrayList<>();
      ScanState state = from.state();
      for (Waiting<Order, Executed> waiting : batch) {
        try {
          if (!state.exists()) {
            throw new ScanNotFoundException(from.id());
          }
          List<ScanEvent> decided =
              new ArrayList<>(ScanDecisions.decide(from.id(), state, waiting.command.command()));
          state = applied(state, decided);
          if (!decided.isEmpty()) {
            for (ScanCommand next : waiting.command.then().apply(state)) {
              List<ScanEvent> following = followUp(from.id(), state, next);
              state = applied(state, following);
              decided.addAll(following);
            }
          }
          events.add(decided);
          refusals.add(null);
        } catch (RuntimeException refused) {
          events.add(List.of());
          refusals.add(refused);
        }
      }
      return new Decisions(from, batch, events, refusals);
    }

    private static List<ScanEvent> followUp(String scanId, ScanState state, ScanCommand next) {
      try {
        return ScanDecisions.decide(scanId, state, next);
      } catch (RuntimeException refused) {
        return List.of(); // a follow-up is an offer: the command itself stands without it
      }
    }

    private static ScanState applied(ScanState state, List<ScanEvent> events) {
      for (ScanEvent event : events) {
        state = state.apply(event);
      }
      return state;
    }

    boolean appendsNothing() {
      return events.stream().allMatch(List::isEmpty);
    }

    void complete(Aggregate<ScanState> after) {
      for (int i = 0; i < batch.size(); i++) {
        if (refusals.get(i) != null) {
          batch.get(i).result.completeExceptionally(refusals.get(i));
        } else {
          batch.get(i).result.complete(new Executed(events.get(i), after.state(), after.version()));
        }
      }
    }
  }

  /** One append for the whole batch; each command's events carry that command's own id. */
  private Aggregate<ScanState> append(Aggregate<ScanState> known, Decisions decisions) {
    List<EventData> data = new ArrayList<>();
    ScanState state = known.state();
    for (List<ScanEvent> events : decisions.events()) {
      EventMetadata metadata = EventMetadata.correlated(known.id(), UUID.randomUUID().toString());
      for (ScanEvent event : events) {
        data.add(serializer.serialize(event, metadata));
        state = state.apply(event);
      }
    }
    long version =
        store
            .append(
                ScanEventTypes.streamId(known.id()), ExpectedVersion.exactly(known.version()), data)
            .streamVersion();
    return new Aggregate<>(known.id(), state, version);
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

  /** The state this node last saw of an unfinished scan, if at least at {@code version}. */
  public Optional<LoadedScan> known(String scanId, long version) {
    Aggregate<ScanState> known = latest.get(scanId);
    return known == null || known.version() < version
        ? Optional.empty()
        : Optional.of(new LoadedScan(known.state(), known.version()));
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
