package dev.eventscan.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a unit of work on N threads for a fixed time; returns units per second and the latency of
 * one unit (one {@code runOnce} call), over all threads.
 */
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

  /** What one thread did: events handled and the duration of each unit in nanoseconds. */
  private record ThreadResult(long events, long[] latencies, int count) {}

  static Measurement measure(int threads, Duration duration, WorkerFactory factory)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Worker> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        workers.add(factory.create(t));
      }
      long start = System.nanoTime();
      long deadline = start + duration.toNanos();
      List<Future<ThreadResult>> results = new ArrayList<>();
      for (Worker worker : workers) {
        results.add(pool.submit(() -> runUntil(deadline, worker)));
      }
      long total = 0;
      List<ThreadResult> done = new ArrayList<>();
      for (Future<ThreadResult> result : results) {
        done.add(result.get());
        total += done.get(done.size() - 1).events();
      }
      double perSecond = total / ((System.nanoTime() - start) / 1e9);
      for (Worker worker : workers) {
        worker.close();
      }
      long[] latencies = merge(done);
      return new Measurement(
          perSecond, percentileMillis(latencies, 0.50), percentileMillis(latencies, 0.99));
    } finally {
      pool.shutdownNow();
    }
  }

  private static ThreadResult runUntil(long deadline, Worker worker) throws Exception {
    long events = 0;
    long[] latencies = new long[4096];
    int count = 0;
    long now = System.nanoTime();
    for (long i = 0; now < deadline; i++) {
      events += worker.runOnce(i);
      long after = System.nanoTime();
      if (count == latencies.length) {
        latencies = Arrays.copyOf(latencies, count * 2);
      }
      latencies[count++] = after - now;
      now = after;
    }
    return new ThreadResult(events, latencies, count);
  }

  private static long[] merge(List<ThreadResult> results) {
    long[] all = new long[results.stream().mapToInt(ThreadResult::count).sum()];
    int at = 0;
    for (ThreadResult result : results) {
      System.arraycopy(result.latencies(), 0, all, at, result.count());
      at += result.count();
    }
    Arrays.sort(all);
    return all;
  }

  private static double percentileMillis(long[] sorted, double percentile) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(percentile * sorted.length) - 1;
    return sorted[Math.max(0, index)] / 1e6;
  }
}
