package dev.eventscan.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventscan.eventstore.aggregate.Aggregate;
import dev.eventscan.eventstore.aggregate.AggregateRepository;
import dev.eventscan.eventstore.aggregate.AggregateType;
import dev.eventscan.eventstore.aggregate.CommandMetadata;
import dev.eventscan.eventstore.serialization.EventTypeRegistry;
import dev.eventscan.eventstore.serialization.JacksonEventSerializer;
import dev.eventscan.eventstore.snapshot.SnapshotPolicy;
import dev.eventscan.eventstore.snapshot.SnapshotStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Loading an aggregate whose stream has 10,000 events: with a snapshot every 100 events (ours)
 * against a full replay without snapshots (the limit it improves on). Goal: ratio >= 20.
 */
final class AggregateLoadScenario extends RatioScenario {
  static final int EVENTS = 10_000;
  private static final Duration RUN_TIME = Duration.ofSeconds(3);

  record Counted(long amount) {}

  record Total(long sum, long count) {}

  private static final AggregateType<Total, Counted> COUNTER =
      new AggregateType<>() {
        @Override
        public String category() {
          return "counter";
        }

        @Override
        public Total initialState(String id) {
          return new Total(0, 0);
        }

        @Override
        public Total apply(Total state, Counted event) {
          return new Total(state.sum() + event.amount(), state.count() + 1);
        }

        @Override
        public Class<Total> stateType() {
          return Total.class;
        }

        @Override
        public Class<Counted> eventType() {
          return Counted.class;
        }

        @Override
        public SnapshotPolicy snapshotPolicy() {
          return SnapshotPolicy.everyEvents(100);
        }
      };

  private final String id = UUID.randomUUID().toString();
  private AggregateRepository<Total, Counted> withSnapshots;
  private AggregateRepository<Total, Counted> withoutSnapshots;

  @Override
  public String name() {
    return "aggregate-load-10k";
  }

  @Override
  public void prepare(BenchmarkDatabase database) {
    JacksonEventSerializer serializer =
        new JacksonEventSerializer(new EventTypeRegistry().register("Counted", Counted.class));
    withSnapshots =
        new AggregateRepository<>(
            database.store(),
            COUNTER,
            serializer,
            new SnapshotStore(database.store(), new ObjectMapper()),
            0);
    withoutSnapshots = new AggregateRepository<>(database.store(), COUNTER, serializer, null, 0);
    Aggregate<Total> counter = withSnapshots.load(id);
    while (counter.version() < EVENTS) {
      List<Counted> batch = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        batch.add(new Counted(1));
      }
      counter = withSnapshots.save(counter, batch, CommandMetadata.newCommand());
    }
  }

  @Override
  Measurement runOurs(BenchmarkDatabase database) throws Exception {
    return loadsPerSecond(withSnapshots);
  }

  @Override
  Measurement runLimit(BenchmarkDatabase database) throws Exception {
    return loadsPerSecond(withoutSnapshots);
  }

  private Measurement loadsPerSecond(AggregateRepository<Total, Counted> repository)
      throws Exception {
    return Throughput.measure(
        1,
        RUN_TIME,
        thread ->
            iteration -> {
              if (repository.load(id).state().count() != EVENTS) {
                throw new IllegalStateException("wrong state loaded");
              }
              return 1;
            });
  }
}
