package dev.eventscan.eventstore.subscription;

import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's membership in a partitioned subscription: a heartbeat every second, and from the live
 * members, in the same order on every node, the segments this node should own (segment i goes to
 * member i mod N, so each of N nodes owns about K/N). Who actually owns a segment is still decided
 * by its advisory lock: two nodes with different views at a moment only compete for it, and the
 * lock lets one win. A node that cannot reach the database for longer than {@link #LIVE_WITHIN}
 * claims nothing, so it lets its segments go by the time the others consider it dead.
 */
final class SegmentMembership {
  private static final Logger log = LoggerFactory.getLogger(SegmentMembership.class);
  static final Duration HEARTBEAT = Duration.ofSeconds(1);

  /** A member not heard from for this long is dead: its segments go to the others. */
  static final Duration LIVE_WITHIN = Duration.ofSeconds(5);

  private final SubscriptionTables tables;
  private final String name;
  private final String node;
  private final int segments;
  private final StopSignal stop = new StopSignal();
  private final Thread thread;
  private volatile Set<Integer> assigned = Set.of();
  private volatile long heardAt = System.nanoTime() - LIVE_WITHIN.toNanos();

  SegmentMembership(SubscriptionTables tables, String name, String node, int segments) {
    this.tables = tables;
    this.name = name;
    this.node = node;
    this.segments = segments;
    this.thread = new Thread(this::run, "subscription-members-" + name);
    this.thread.setDaemon(true);
  }

  /** Joins at once, so this node can claim its segments without waiting for the first beat. */
  void start() {
    beat();
    thread.start();
  }

  /** Whether this node should own segment {@code index} now. */
  boolean assigned(int index) {
    return System.nanoTime() - heardAt < LIVE_WITHIN.toNanos() && assigned.contains(index);
  }

  void stop() {
    stop.raise();
    try {
      thread.join(HEARTBEAT.toMillis() * 10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      tables.leave(name, node);
    } catch (RuntimeException e) {
      log.debug("Could not leave {}; the others wait for its heartbeat to age", name, e);
    }
  }

  private void run() {
    while (!stop.raised()) {
      stop.pause(HEARTBEAT);
      if (!stop.raised()) {
        beat();
      }
    }
  }

  private void beat() {
    try {
      List<String> live = tables.heartbeat(name, node, segments, LIVE_WITHIN);
      int me = live.indexOf(node);
      Set<Integer> mine = new HashSet<>();
      for (int index = 0; index < segments && me >= 0; index++) {
        if (index % live.size() == me) {
          mine.add(index);
        }
      }
      assigned = Set.copyOf(mine);
      heardAt = System.nanoTime();
    } catch (SQLException | RuntimeException e) {
      log.warn(
          "Subscription {}: heartbeat failed, segments are let go after {}: {}",
          name,
          LIVE_WITHIN,
          e.toString());
    }
  }
}
