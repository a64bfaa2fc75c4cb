package dev.eventscan.scan.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.scan.Eventually;
import dev.eventscan.scan.lifecycle.OneBatchAtATime.Waiting;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Commands of one key never race each other; those that queue up are handled as one batch. */
class OneBatchAtATimeTest {
  private final ExecutorService callers = Executors.newCachedThreadPool();

  @AfterEach
  void stopCallers() {
    callers.shutdownNow();
  }

  @Test
  void commands_that_arrive_while_a_batch_runs_are_handled_together_each_with_its_own_result()
      throws Exception {
    CountDownLatch firstBatchStarted = new CountDownLatch(1);
    CompletableFuture<Void> releaseFirstBatch = new CompletableFuture<>();
    List<List<String>> batches = new CopyOnWriteArrayList<>();
    OneBatchAtATime<String, String> combiner =
        new OneBatchAtATime<>(
            (key, batch) -> {
              batches.add(batch.stream().map(w -> w.command).toList());
              if (batches.size() == 1) {
                firstBatchStarted.countDown();
                releaseFirstBatch.join();
              }
              for (Waiting<String, String> waiting : batch) {
                if (waiting.command.equals("refused")) {
                  waiting.result.completeExceptionally(new IllegalArgumentException("refused"));
                } else {
                  waiting.result.complete(key + ":" + waiting.command);
                }
              }
            });

    Future<String> first = callers.submit(() -> combiner.submit("scan-1", "first"));
    assertThat(firstBatchStarted.await(10, TimeUnit.SECONDS)).isTrue();
    List<Future<String>> later = new ArrayList<>();
    for (String command : List.of("a", "refused", "b")) {
      later.add(callers.submit(() -> combiner.submit("scan-1", command)));
      int waiting = later.size();
      Eventually.until(
          waiting + " commands behind the batch",
          Duration.ofSeconds(10),
          () -> combiner.waiting("scan-1") == waiting);
    }
    Future<String> otherKey = callers.submit(() -> combiner.submit("scan-2", "alone"));
    assertThat(otherKey.get(10, TimeUnit.SECONDS))
        .as("another key does not wait for this key's batch")
        .isEqualTo("scan-2:alone");
    releaseFirstBatch.complete(null);

    assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("scan-1:first");
    assertThat(later.get(0).get(10, TimeUnit.SECONDS)).isEqualTo("scan-1:a");
    assertThatThrownBy(() -> later.get(1).get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(IllegalArgumentException.class);
    assertThat(later.get(2).get(10, TimeUnit.SECONDS)).isEqualTo("scan-1:b");
    assertThat(batches)
        .containsExactlyInAnyOrder(
            List.of("first"), List.of("a", "refused", "b"), List.of("alone"));
  }

  @Test
  void a_failing_batch_fails_each_of_its_commands_and_the_next_command_runs_again() {
    OneBatchAtATime<String, String> combiner =
        new OneBatchAtATime<>(
            (key, batch) -> {
              if (batch.get(0).command.equals("boom")) {
                throw new IllegalStateException("storage down");
              }
              batch.forEach(w -> w.result.complete(w.command));
            });

    assertThatThrownBy(() -> combiner.submit("scan", "boom"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("storage down");
    assertThat(combiner.submit("scan", "fine")).isEqualTo("fine");
  }
}
