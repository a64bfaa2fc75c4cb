package dev.eventscan.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Runs a unit of work on N threads for a fixed time and returns units per second. */
final class Throughput {
  private Throughput() {}

  @FunctionalInterface
  interface Worker extends AutoCloseable {
    /** Does one unit of work and returns how many events it handled. */
    int runOnce(long iteration) throws Exception;

    @Override
    default void close() throws java.sql.SQLException {}
  }

  @FunctionalInterface
  interface WorkerFactory {
    Worker create(int thread) throws Exception;
  }

  static double measure(int threads, Duration duration, WorkerFactory factory) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Worker> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        workers.add(factory.create(t));
      }
      long start = System.nanoTime();
      long deadline = start + duration.toNanos();
      List<Future<Long>> counts = new ArrayList<>();
      for (Worker worker : workers) {
        counts.add(
            pool.submit(
                () -> {
                  long events = 0;
                  for (long i = 0; System.nanoTime() < deadline; i++) {
                    events += worker.runOnce(i);
                  }
                  return events;
                }));
      }
      long total = 0;
      for (Future<Long> count : counts) {
        total += count.get();
      }
      double perSecond = total / ((System.nanoTime() - start) / 1e9);
      for (Worker worker : workers) {
        worker.close();
      }
      return perSecond;
    } finally {
      pool.shutdownNow();
    }
  }
}
