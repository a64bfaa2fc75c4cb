package dev.eventscan.bench;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Fills the log through the library's own batched appends, 1,000 events per stream. */
final class LogFill {
  private static final int PER_APPEND = 1_000;
  private static final int WRITERS = 4;

  private LogFill() {}

  static void fill(EventStore store, int events) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    try {
      List<Future<?>> fills = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        fills.add(
            pool.submit(
                () -> {
                  for (int a = 0; a < events / PER_APPEND / WRITERS; a++) {
                    List<EventData> batch = new ArrayList<>(PER_APPEND);
                    for (int i = 0; i < PER_APPEND; i++) {
                      batch.add(Payloads.event());
                    }
                    store.append("fill-" + UUID.randomUUID(), ExpectedVersion.noStream(), batch);
                  }
                  return null;
                }));
      }
      for (Future<?> fill : fills) {
        fill.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
