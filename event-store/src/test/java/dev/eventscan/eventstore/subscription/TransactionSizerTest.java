package dev.eventscan.eventstore.subscription;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.IntToLongFunction;
import org.junit.jupiter.api.Test;

/** The sizing rule alone, on modelled handler costs (no clock involved). */
class TransactionSizerTest {
  private static final long MS = 1_000_000;

  private static int settle(IntToLongFunction cost) {
    TransactionSizer sizer = new TransactionSizer(10 * MS);
    for (int i = 0; i < 40; i++) {
      int size = Math.min(sizer.next(), 500); // a page bounds a batch
      sizer.took(size, cost.applyAsLong(size));
    }
    return Math.min(sizer.next(), 500);
  }

  @Test
  void a_cost_per_event_shrinks_batches_to_the_budget() {
    assertThat(settle(n -> 3 * MS * n)).isBetween(2, 4);
  }

  @Test
  void a_fixed_cost_plus_a_cost_per_event_leaves_room_for_the_fixed_part() {
    assertThat(settle(n -> 2 * MS + MS / 2 * n)).isBetween(14, 18);
  }

  @Test
  void a_cost_per_batch_over_the_budget_does_not_shrink_batches() {
    // One statement per batch: smaller batches would hold readers as long, only more often.
    assertThat(settle(n -> 15 * MS + MS / 100 * n)).isEqualTo(500);
  }

  @Test
  void noise_on_a_loaded_machine_does_not_hide_a_cost_per_event() {
    // Every other batch is delayed 40 ms (the thread was not scheduled): on a fit alone that
    // read as no cost per event, and batches of 3 ms events grew to 62.
    int[] batch = {0};
    int settled = settle(n -> 3 * MS * n + (batch[0]++ % 2 == 0 ? 40 * MS : 0));
    assertThat(settled).isLessThan(20);
  }

  @Test
  void a_fast_handler_grows_to_whole_pages() {
    assertThat(settle(n -> MS / 100 * n)).isEqualTo(500);
  }
}
