package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.testsupport.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The rate limit counted on PostgreSQL, with requests that arrive together counted together. */
@ExtendWith(PostgresExtension.class)
class RateLimiterTest {
  private static DataSource dataSource;

  @BeforeAll
  static void migrate(DataSource pooled) {
    dataSource = pooled;
    RateLimiter.migrate(dataSource, "limits");
  }

  @Test
  void concurrent_requests_of_several_clients_get_exactly_each_clients_budget() throws Exception {
    RateLimiter limiter = new RateLimiter(dataSource, "limits", 7);
    List<Long> first = new ArrayList<>();
    List<Long> second = new ArrayList<>();
    ExecutorService threads = Executors.newFixedThreadPool(32);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Long>> firsts = new ArrayList<>();
      List<Future<Long>> seconds = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        firsts.add(threads.submit(acquireAfter(go, limiter, "192.0.2.1")));
        seconds.add(threads.submit(acquireAfter(go, limiter, "192.0.2.2")));
      }
      go.countDown();
      for (int i = 0; i < 40; i++) {
        first.add(firsts.get(i).get());
        second.add(seconds.get(i).get());
      }
    } finally {
      threads.shutdown();
    }
    for (List<Long> client : List.of(first, second)) {
      assertThat(client.stream().filter(wait -> wait == 0)).hasSize(7);
      // Refused with a full bucket: the next request fits one interval (60 / 7 s) from now.
      assertThat(client.stream().filter(wait -> wait > 0)).hasSize(33).allMatch(wait -> wait <= 9);
    }
  }

  @Test
  void a_bucket_spent_by_one_limiter_is_spent_for_another_on_the_same_database() {
    RateLimiter one = new RateLimiter(dataSource, "limits", 3);
    RateLimiter other = new RateLimiter(dataSource, "limits", 3);
    assertThat(one.acquire("198.51.100.1")).isZero();
    assertThat(other.acquire("198.51.100.1")).isZero();
    assertThat(one.acquire("198.51.100.1")).isZero();
    assertThat(other.acquire("198.51.100.1")).isBetween(1L, 20L);
    assertThat(one.acquire("198.51.100.1")).isBetween(1L, 20L);
    assertThat(one.acquire("198.51.100.2")).as("another client").isZero();
  }

  private static Callable<Long> acquireAfter(
      CountDownLatch go, RateLimiter limiter, String client) {
    return () -> {
      go.await();
      return limiter.acquire(client);
    };
  }
}
