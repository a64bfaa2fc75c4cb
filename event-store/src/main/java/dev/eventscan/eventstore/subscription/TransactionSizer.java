package dev.eventscan.eventstore.subscription;

/**
 * Sizes a transactional subscription's batches so that each transaction's handler work takes about
 * a budget: the transaction holds a transaction id from its first write to its commit, and every
 * global reader (live feeds, other subscriptions) waits behind it.
 *
 * <p>It fits {@code time = fixed + perEvent * events} by least squares over the last few batches. A
 * per-event cost (a statement per event) shrinks batches to what fits the budget. A fixed cost (one
 * statement per batch: the largest recent batch took about as long as the smallest) does not:
 * smaller batches would hold readers just as long, only more often, so the size keeps growing.
 * Growth is at most doubling per batch.
 */
final class TransactionSizer {
  static final int FIRST = 10;
  private static final int SAMPLES = 8;

  private final long budgetNanos;
  private final long[] sizes = new long[SAMPLES];
  private final long[] nanos = new long[SAMPLES];
  private int recorded;
  private int next = FIRST;

  TransactionSizer(long budgetNanos) {
    this.budgetNanos = budgetNanos;
  }

  /** Events for the next transaction. */
  int next() {
    return next;
  }

  /** Records that {@code events} took {@code tookNanos} of handler work; adjusts the next size. */
  void took(int events, long tookNanos) {
    sizes[recorded % SAMPLES] = events;
    nanos[recorded % SAMPLES] = Math.max(0, tookNanos);
    recorded++;
    long fitting = fitting();
    next = (int) Math.max(1, Math.min(fitting, 2L * events));
  }

  private long fitting() {
    int n = Math.min(recorded, SAMPLES);
    double meanSize = 0;
    double meanNanos = 0;
    int smallest = 0;
    int largest = 0;
    for (int i = 0; i < n; i++) {
      meanSize += sizes[i];
      meanNanos += nanos[i];
      smallest = sizes[i] < sizes[smallest] ? i : smallest;
      largest = sizes[i] > sizes[largest] ? i : largest;
    }
    meanSize /= n;
    meanNanos /= n;
    if (sizes[smallest] == sizes[largest]) {
      // One size seen so far: all of the time is taken to be per event (the cautious reading).
      return (long) (budgetNanos * meanSize / Math.max(1, meanNanos));
    }
    // Noise only adds time, and it can hide a cost per event from the fit below; so the size is
    // taken not to matter only when the largest batch really took about as long as the smallest.
    if (nanos[largest] <= 1.5 * nanos[smallest]) {
      return Long.MAX_VALUE; // one statement per batch: smaller ones would not hold readers less
    }
    double covariance = 0;
    double variance = 0;
    for (int i = 0; i < n; i++) {
      covariance += (sizes[i] - meanSize) * (nanos[i] - meanNanos);
      variance += (sizes[i] - meanSize) * (sizes[i] - meanSize);
    }
    double perEvent = covariance / variance;
    if (perEvent <= 0) {
      perEvent = meanNanos / meanSize;
    }
    double fixed = Math.max(0, meanNanos - perEvent * meanSize);
    return (long) (Math.max(0, budgetNanos - fixed) / perEvent);
  }
}
