package dev.eventscan.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Appends at a steady rate: append {@code i} is due at {@code i / rate} seconds; one writer below
 * 500/s, else 8 writers taking turns, since one append takes a few ms with durable commits. Records
 * when each append returned (epoch µs, the clock {@link SseLoadGenerator} stamps receipts with) and
 * samples the server's size once, midway.
 */
final class PacedAppends {
  interface Append {
    Object append(int i) throws Exception;
  }

  private PacedAppends() {}

  static long[] run(int rate, int seconds, Append append, Runnable sample) throws Exception {
    int total = rate * seconds;
    int writers = rate >= 500 ? 8 : 1;
    long[] appendedAt = new long[total];
    long start = System.nanoTime();
    List<Thread> threads = new ArrayList<>();
    Exception[] failure = new Exception[1];
    for (int w = 0; w < writers; w++) {
      int first = w;
      Thread thread =
          new Thread(
              () -> {
                try {
                  for (int i = first; i < total; i += writers) {
                    long wait = start + i * 1_000_000_000L / rate - System.nanoTime();
                    if (wait > 0) {
                      LockSupport.parkNanos(wait);
                    }
                    append.append(i);
                    appendedAt[i] = SseLoadGenerator.epochMicros();
                    if (i == total / 2) {
                      sample.run();
                    }
                  }
                } catch (Exception e) {
                  failure[0] = e;
                }
              },
              "paced-writer-" + w);
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join();
    }
    if (failure[0] != null) {
      throw failure[0];
    }
    return appendedAt;
  }
}
