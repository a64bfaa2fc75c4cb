package dev.eventscan.eventstore;

import static dev.eventscan.eventstore.Events.event;
import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamAppend;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import dev.eventscan.testsupport.PostgresExtension;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The invariant every reader relies on: per stream, global order is version order, also when a
 * transaction appends to several streams while single appends race it on the same streams.
 */
@ExtendWith(PostgresExtension.class)
class GlobalOrderMatchesVersionOrderTest {
  private static EventStore store;

  @BeforeAll
  static void createStore(DataSource dataSource) {
    store = EventStore.builder(dataSource).build();
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void multi_stream_appends_racing_single_appends_never_place_a_version_before_its_predecessor()
      throws Exception {
    String category = "hot" + UUID.randomUUID().toString().substring(0, 8);
    List<String> streams = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      streams.add(category + "-" + i);
    }
    ExecutorService writers = Executors.newFixedThreadPool(6);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
    List<Future<?>> running = new ArrayList<>();
    for (int w = 0; w < 6; w++) {
      boolean atomic = w % 2 == 0;
      running.add(
          writers.submit(
              () -> {
                while (System.nanoTime() < deadline) {
                  try {
                    if (atomic) {
                      appendToAllAtCurrentVersions(streams);
                    } else {
                      String stream = streams.get(ThreadLocalRandom.current().nextInt(4));
                      long version = store.streamInfo(stream).map(s -> s.version()).orElse(0L);
                      store.append(stream, ExpectedVersion.exactly(version), event("One", 0));
                    }
                  } catch (WrongExpectedVersionException | EventStoreStorageException lostRace) {
                    // lost the race (or lost it too often in a row): read again and retry
                  }
                }
                return null;
              }));
    }
    for (Future<?> writer : running) {
      writer.get();
    }
    writers.shutdown();

    Map<String, Long> lastVersion = new HashMap<>();
    Position position = Position.START;
    int read = 0;
    while (true) {
      GlobalLogPage page = store.readAll(position, EventFilter.categories(category), 500);
      for (RecordedEvent event : page.events()) {
        long previous = lastVersion.getOrDefault(event.streamId(), 0L);
        assertThat(event.streamVersion())
            .as("%s at %s follows version %d", event.streamId(), event.position(), previous)
            .isEqualTo(previous + 1);
        lastVersion.put(event.streamId(), event.streamVersion());
        position = event.position();
        read++;
      }
      if (page.endOfLog() || page.events().isEmpty()) {
        break;
      }
    }
    assertThat(read).isGreaterThan(100);
    for (String stream : streams) {
      assertThat(lastVersion.get(stream))
          .isEqualTo(store.streamInfo(stream).orElseThrow().version());
    }
  }

  /**
   * The first stream exactly at the version read before, the others with {@code any}: the version
   * each later statement reads must not come from a transaction younger than this one.
   */
  private static void appendToAllAtCurrentVersions(List<String> streams) {
    List<StreamAppend> parts = new ArrayList<>();
    for (String stream : streams) {
      long version = store.streamInfo(stream).map(s -> s.version()).orElse(0L);
      ExpectedVersion expected =
          parts.isEmpty() && version > 0 ? ExpectedVersion.exactly(version) : ExpectedVersion.any();
      parts.add(new StreamAppend(stream, expected, List.of(event("Many", 0))));
    }
    store.appendAtomically(parts);
  }
}
