package dev.eventscan.eventstore;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import dev.eventscan.testsupport.PostgresExtension;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class ConcurrentAppendTest {
  private static final int WRITERS = 8;
  private static final int APPENDS_PER_WRITER = 500;
  private static EventStore store;

  @BeforeAll
  static void createStore(DataSource dataSource) {
    store = EventStore.builder(dataSource).build();
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void eight_writers_on_one_stream_with_retry_lose_and_duplicate_nothing() throws Exception {
    String streamId = newStreamId("contended");
    AtomicInteger conflicts = new AtomicInteger();

    runWriters(
        writer -> {
          for (int i = 0; i < APPENDS_PER_WRITER; i++) {
            var payload = event("Counted", writer * APPENDS_PER_WRITER + i);
            while (true) {
              long version = store.streamInfo(streamId).map(info -> info.version()).orElse(0L);
              try {
                store.append(streamId, ExpectedVersion.exactly(version), payload);
                break;
              } catch (WrongExpectedVersionException e) {
                conflicts.incrementAndGet();
              }
            }
          }
        });

    List<RecordedEvent> events = store.readStream(streamId).events();
    assertThat(events).hasSize(WRITERS * APPENDS_PER_WRITER);
    assertThat(events.stream().mapToLong(RecordedEvent::streamVersion))
        .containsExactlyElementsOf(
            LongStream.rangeClosed(1, WRITERS * APPENDS_PER_WRITER).boxed().toList());
    assertThat(events.stream().map(RecordedEvent::data).distinct().count())
        .as("every payload exactly once")
        .isEqualTo(WRITERS * APPENDS_PER_WRITER);
    assertThat(store.streamInfo(streamId).orElseThrow().version()).isEqualTo(4000);
    assertThat(conflicts.get()).as("the test really contended").isPositive();
    assertGlobalLogHoldsEachEventOnce(streamId, WRITERS * APPENDS_PER_WRITER);
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void eight_writers_on_their_own_streams_never_conflict() throws Exception {
    String prefix = newStreamId("own");
    runWriters(
        writer -> {
          for (int i = 0; i < APPENDS_PER_WRITER; i++) {
            // A conflict would throw and fail the writer.
            store.append(prefix + "-" + writer, ExpectedVersion.exactly(i), event("Own", i));
          }
        });
    for (int writer = 0; writer < WRITERS; writer++) {
      assertThat(store.streamInfo(prefix + "-" + writer).orElseThrow().version())
          .isEqualTo(APPENDS_PER_WRITER);
    }
  }

  private static void assertGlobalLogHoldsEachEventOnce(String streamId, int expected) {
    Set<Position> positions = new HashSet<>();
    List<Long> versions = new ArrayList<>();
    Position after = Position.START;
    GlobalLogPage page;
    do {
      page = store.readAll(after, EventFilter.all(), 700);
      for (RecordedEvent event : page.events()) {
        assertThat(event.position()).isGreaterThan(after);
        after = event.position();
        if (event.streamId().equals(streamId)) {
          assertThat(positions.add(event.position())).isTrue();
          versions.add(event.streamVersion());
        }
      }
    } while (!page.endOfLog());
    assertThat(versions).hasSize(expected).isSorted();
  }

  interface Writer {
    void run(int writer) throws Exception;
  }

  private static void runWriters(Writer body) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Void>> futures = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        int writer = w;
        Callable<Void> task =
            () -> {
              start.await();
              body.run(writer);
              return null;
            };
        futures.add(pool.submit(task));
      }
      start.countDown();
      for (Future<Void> future : futures) {
        future.get(170, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
