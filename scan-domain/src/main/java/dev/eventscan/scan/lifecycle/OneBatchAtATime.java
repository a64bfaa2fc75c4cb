package dev.eventscan.scan.lifecycle;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Handles the commands for one key one batch at a time (flat combining): a caller that finds no
 * batch of its key running handles, on its own thread, every command of that key waiting, as one
 * batch, until none is left; the others wait for their own results. Commands of one key never race
 * each other, and those that arrive together are handled together. Also used by the web layer's
 * rate limiter, to count concurrent requests in one statement.
 *
 * @param <C> a command
 * @param <R> what one command's caller gets back
 */
public final class OneBatchAtATime<C, R> {
  /** A command and its caller's result, which the batch handler completes. */
  public static final class Waiting<C, R> {
    public final C command;
    public final CompletableFuture<R> result = new CompletableFuture<>();

    Waiting(C command) {
      this.command = command;
    }
  }

  @FunctionalInterface
  public interface BatchHandler<C, R> {
    /** Handles the batch in order and completes each one's result; a throw fails the rest. */
    void handle(String key, List<Waiting<C, R>> batch);
  }

  /** The commands waiting per key; a key is present while a batch of it is being handled. */
  private final Map<String, List<Waiting<C, R>>> waiting = new ConcurrentHashMap<>();

  private final BatchHandler<C, R> handler;

  public OneBatchAtATime(BatchHandler<C, R> handler) {
    this.handler = handler;
  }

  /** Handles the command with whatever else waits for its key; rethrows what failed it. */
  public R submit(String key, C command) {
    Waiting<C, R> mine = new Waiting<>(command);
    boolean[] leads = {false};
    waiting.compute(
        key,
        (k, queue) -> {
          if (queue == null) {
            queue = new ArrayList<>();
            leads[0] = true;
          }
          queue.add(mine);
          return queue;
        });
    if (leads[0]) {
      handleUntilNoneWaits(key);
    }
    try {
      return mine.result.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      if (e.getCause() instanceof Error cause) {
        throw cause;
      }
      throw e;
    }
  }

  /** Commands of the key waiting behind the batch being handled (for tests). */
  int waiting(String key) {
    int[] count = {0};
    waiting.computeIfPresent(
        key,
        (k, queue) -> {
          count[0] = queue.size();
          return queue;
        });
    return count[0];
  }

  private void handleUntilNoneWaits(String key) {
    while (true) {
      List<Waiting<C, R>> batch = new ArrayList<>();
      // The key goes away with its last batch, so the next caller leads a new one.
      waiting.computeIfPresent(
          key,
          (k, queue) -> {
            batch.addAll(queue);
            queue.clear();
            return batch.isEmpty() ? null : queue;
          });
      if (batch.isEmpty()) {
        return;
      }
      try {
        handler.handle(key, batch);
      } catch (RuntimeException | Error e) {
        batch.forEach(w -> w.result.completeExceptionally(e));
      }
      batch.forEach(
          w ->
              w.result.completeExceptionally(
                  new IllegalStateException("command left without a result")));
    }
  }
}
