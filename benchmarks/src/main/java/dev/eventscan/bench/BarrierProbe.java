package dev.eventscan.bench;

import dev.eventscan.eventstore.position.Position;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Watches the transaction-id barrier (the oldest running transaction id) on a connection of its
 * own, about every {@value #INTERVAL_MICROS} µs, and who holds it: the last statement of the
 * transaction whose id it is. Afterwards it says, per appended event, when the event went below the
 * barrier (when a global reader could first see it) and which kind of transaction held it back
 * until then. A read-only probe takes no transaction id, so it never holds the barrier itself.
 */
final class BarrierProbe implements AutoCloseable {
  private static final long INTERVAL_MICROS = 500;

  /** One observation: when, the barrier then, and what the transaction at the barrier last ran. */
  private record Sample(long atMicros, long barrier, String holder) {}

  private final Connection connection;
  private final Thread thread;
  private final List<Sample> samples = new ArrayList<>();
  private volatile boolean stopped;

  BarrierProbe(String jdbcUrl) throws SQLException {
    connection = DriverManager.getConnection(jdbcUrl, "postgres", "");
    thread = new Thread(this::run, "barrier-probe");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    String sql =
        """
        SELECT b.xmin::text,
               (SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity
                 WHERE backend_xid::text = b.xmin::text LIMIT 1)
          FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) b
        """;
    try (PreparedStatement probe = connection.prepareStatement(sql)) {
      while (!stopped) {
        long at = SseLoadGenerator.epochMicros();
        try (ResultSet row = probe.executeQuery()) {
          row.next();
          Sample sample = new Sample(at, Long.parseLong(row.getString(1)), row.getString(2));
          synchronized (samples) {
            samples.add(sample);
          }
        }
        LockSupport.parkNanos(INTERVAL_MICROS * 1_000);
      }
    } catch (SQLException e) {
      if (!stopped) {
        System.out.println("# barrier probe stopped: " + e);
      }
    }
  }

  /**
   * For each event (its position and when its append returned, epoch µs): how long until a sample
   * saw the barrier above its transaction id, in ms (NaN if never seen). Holders are tallied into
   * {@code heldBy}: milliseconds of delay per kind of transaction at the barrier.
   */
  private double[] visibleAfterMillis(
      Position[] positions, long[] appendedAt, Map<String, Double> heldBy) {
    List<Sample> seen;
    synchronized (samples) {
      seen = new ArrayList<>(samples);
    }
    long[] times = seen.stream().mapToLong(Sample::atMicros).toArray();
    double[] delays = new double[positions.length];
    for (int i = 0; i < positions.length; i++) {
      long xid = Long.parseLong(positions[i].transactionIdText());
      int from = Arrays.binarySearch(times, appendedAt[i]);
      from = from < 0 ? -from - 1 : from;
      delays[i] = Double.NaN;
      long previous = appendedAt[i];
      for (int s = from; s < seen.size(); s++) {
        Sample sample = seen.get(s);
        if (sample.barrier() > xid) {
          delays[i] = (sample.atMicros() - appendedAt[i]) / 1000.0;
          break;
        }
        heldBy.merge(kind(sample.holder()), (sample.atMicros() - previous) / 1000.0, Double::sum);
        previous = sample.atMicros();
      }
    }
    return delays;
  }

  /** The transaction at the barrier, named by the statement it last ran. */
  private static String kind(String holder) {
    if (holder == null) {
      return "ended between samples";
    }
    String q = holder.toLowerCase(Locale.ROOT);
    if (q.contains("pg_notify")) {
      return "notify";
    }
    if (q.contains("subscriptions")) {
      return "checkpoint";
    }
    if (q.contains("event_counts") || q.contains("event_totals")) {
      return "statistics projection";
    }
    if (q.contains("event_store.events") || q.contains("into event_store")) {
      return "append";
    }
    return "other: " + holder;
  }

  /**
   * {@code below_barrier_p50_ms=... below_barrier_p99_ms=...} for these appends, and a comment line
   * saying which transactions held the barrier meanwhile (ms summed over the events they delayed).
   */
  String report(String scenario, Position[] positions, long[] appendedAt) {
    Map<String, Double> heldBy = new TreeMap<>();
    double[] visible = visibleAfterMillis(positions, appendedAt, heldBy);
    Arrays.sort(visible); // NaN (never seen below it) sorts last
    StringBuilder held = new StringBuilder();
    heldBy.forEach(
        (kind, ms) ->
            held.append(String.format(Locale.ROOT, " [%s]=%.0f", kind.replace(' ', '_'), ms)));
    System.out.printf(
        Locale.ROOT,
        "# %s: below the barrier after p50=%.1f p99=%.1f max=%.1f ms; held by (ms summed over"
            + " events):%s%n",
        scenario,
        Measurement.percentile(visible, 0.50),
        Measurement.percentile(visible, 0.99),
        visible[visible.length - 1],
        held);
    return String.format(
        Locale.ROOT,
        "below_barrier_p50_ms=%.1f below_barrier_p99_ms=%.1f",
        Measurement.percentile(visible, 0.50),
        Measurement.percentile(visible, 0.99));
  }

  @Override
  public void close() throws Exception {
    stopped = true;
    thread.join(5_000);
    connection.close();
  }
}
