package dev.eventscan.web;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A token bucket per client: {@code perMinute} requests a minute, bursts up to that many. */
final class RateLimiter {
  private final double capacity;
  private final double refillPerNano;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  private static final class Bucket {
    double tokens;
    long updated;

    Bucket(double tokens, long updated) {
      this.tokens = tokens;
      this.updated = updated;
    }
  }

  RateLimiter(int perMinute) {
    this.capacity = perMinute;
    this.refillPerNano = perMinute / 60e9;
  }

  /** 0 if allowed now, else how many seconds to wait. */
  long acquire(String client) {
    long now = System.nanoTime();
    if (buckets.size() > 100_000) {
      buckets.clear(); // bounded memory under a flood of distinct clients
    }
    Bucket bucket = buckets.computeIfAbsent(client, c -> new Bucket(capacity, now));
    synchronized (bucket) {
      bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.updated) * refillPerNano);
      bucket.updated = now;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return (long) Math.ceil((1 - bucket.tokens) / refillPerNano / 1e9);
    }
  }
}
