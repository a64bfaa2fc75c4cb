package dev.eventscan.bench;

import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.function.ToDoubleFunction;

/**
 * The same work done through our library, through the raw limit and through the peers (Axon,
 * Message DB) where a scenario has them, runs interleaved (ours, limit, peers, then limit, peers,
 * ours, ...) after one warm-up each, so machine noise hits all of them; medians of three. Peers are
 * reported as their ratio to the same limit.
 */
abstract class RatioScenario implements Scenario {
  /**
   * Interleaved runs per contender; {@code -Dbench.runs=5} narrows the medians on a busy machine.
   */
  static final int RUNS = Integer.getInteger("bench.runs", 3);

  /**
   * The peers to run, by BENCH key ({@code -Dbench.peers=uncoalesced}); all when unset, none when
   * empty. For quick comparisons while developing: the README's lines run all of them.
   */
  private static final String PEERS = System.getProperty("bench.peers");

  /** One implementation in the interleaving. */
  @FunctionalInterface
  interface Contender {
    Measurement run(BenchmarkDatabase database) throws Exception;
  }

  /** Our library: events (or other units) per second. */
  abstract Measurement runOurs(BenchmarkDatabase database) throws Exception;

  /** The limit: events (or other units) per second. */
  abstract Measurement runLimit(BenchmarkDatabase database) throws Exception;

  /** Peers by BENCH key ({@code axon}, {@code messagedb}), in run order; none by default. */
  Map<String, Contender> peers(BenchmarkDatabase database) throws Exception {
    return Map.of();
  }

  /** Runs after every contender's warm-up, before the timed runs. */
  void warmedUp(BenchmarkDatabase database) throws Exception {}

  /** Whether the BENCH line carries each implementation's p99 latency of one unit of work. */
  boolean reportsLatency() {
    return false;
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    Map<String, Contender> contenders = new LinkedHashMap<>();
    contenders.put("ours", this::runOurs);
    contenders.put("limit", this::runLimit);
    peers(database)
        .forEach(
            (name, peer) -> {
              if (PEERS == null || List.of(PEERS.split(",")).contains(name)) {
                contenders.put(name, peer);
              }
            });

    for (Contender contender : contenders.values()) {
      contender.run(database); // warm-up: JIT, caches, connection pools
    }
    warmedUp(database);
    Map<String, List<Measurement>> runs = new LinkedHashMap<>();
    contenders.keySet().forEach(name -> runs.put(name, new ArrayList<>()));
    List<String> order = new ArrayList<>(contenders.keySet());
    for (int run = 0; run < RUNS; run++) {
      // Each round starts with the next contender: whoever runs first after another's burst of
      // writes (checkpoints, autovacuum, WAL recycling) would otherwise always be the same one.
      for (int i = 0; i < order.size(); i++) {
        String name = order.get((run + i) % order.size());
        settle(database);
        runs.get(name).add(contenders.get(name).run(database));
      }
    }
    printRuns(runs);

    double ours = median(runs.get("ours"), Measurement::perSecond);
    double limit = median(runs.get("limit"), Measurement::perSecond);
    StringBuilder line =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "ours=%.0f limit=%.0f ratio=%.2f paired=%.2f",
                ours,
                limit,
                ours / limit,
                pairedRatio(runs.get("ours"), runs.get("limit"))));
    for (String peer : runs.keySet()) {
      if (!peer.equals("ours") && !peer.equals("limit")) {
        line.append(
            String.format(
                Locale.ROOT,
                " %s=%.2f",
                peer,
                median(runs.get(peer), Measurement::perSecond) / limit));
      }
    }
    if (reportsLatency()) {
      StringJoiner p99 = new StringJoiner(",", " p99ms=", "");
      runs.forEach(
          (name, measurements) ->
              p99.add(
                  String.format(
                      Locale.ROOT, "%s:%.1f", name, median(measurements, Measurement::p99Millis))));
      line.append(p99);
    }
    return line.toString();
  }

  /**
   * Lets the previous contender's writes settle before the next is timed: a checkpoint writes its
   * dirty pages out now, not during the next run. Without it, runs of the same code in one
   * invocation differed by 40% (1 writer: 1,234-1,280 vs 2,143 appends/s), the slow ones right
   * after another contender's burst of writes.
   */
  private static void settle(BenchmarkDatabase database) throws Exception {
    try (Connection c = database.limit().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CHECKPOINT");
    }
    Thread.sleep(500);
  }

  /**
   * The median of each round's own ratio: a round's two runs are minutes closer to each other than
   * the runs of a median are, so a slow phase of the shared disk (at one writer the rate is the WAL
   * flush's) moves both of them. Printed next to the ratio of medians, not instead of it.
   */
  private double pairedRatio(List<Measurement> ours, List<Measurement> limit) {
    double[] ratios = new double[ours.size()];
    StringJoiner each = new StringJoiner(",", "# " + name() + " ratio per round: ", "");
    for (int i = 0; i < ratios.length; i++) {
      ratios[i] = ours.get(i).perSecond() / limit.get(i).perSecond();
      each.add(String.format(Locale.ROOT, "%.2f", ratios[i]));
    }
    System.out.println(each);
    return median(ratios);
  }

  /** Every run of every contender, so the spread behind the medians is visible. */
  private void printRuns(Map<String, List<Measurement>> runs) {
    StringJoiner rates = new StringJoiner(" ", "# " + name() + " runs/s: ", "");
    runs.forEach((name, measurements) -> rates.add(name + "=" + format(measurements, false)));
    System.out.println(rates);
    if (reportsLatency()) {
      StringJoiner latencies = new StringJoiner(" ", "# " + name() + " latency ms p50/p99: ", "");
      runs.forEach((name, measurements) -> latencies.add(name + "=" + format(measurements, true)));
      System.out.println(latencies);
    }
  }

  private static String format(List<Measurement> measurements, boolean latency) {
    StringJoiner joiner = new StringJoiner(",");
    for (Measurement m : measurements) {
      joiner.add(
          latency
              ? String.format(Locale.ROOT, "%.1f/%.1f", m.p50Millis(), m.p99Millis())
              : String.format(Locale.ROOT, "%.0f", m.perSecond()));
    }
    return joiner.toString();
  }

  private static double median(
      List<Measurement> measurements, ToDoubleFunction<Measurement> value) {
    return median(measurements.stream().mapToDouble(value).toArray());
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int middle = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }
}
