package dev.eventscan.eventstore.snapshot;

/** When to take a snapshot: each time a stream's version crosses a multiple of {@code every}. */
public record SnapshotPolicy(int every) {
  public static final SnapshotPolicy NEVER = new SnapshotPolicy(0);

  public SnapshotPolicy {
    if (every < 0) {
      throw new IllegalArgumentException("snapshot interval must not be negative");
    }
  }

  public static SnapshotPolicy everyEvents(int events) {
    if (events < 1) {
      throw new IllegalArgumentException("snapshot interval must be at least 1");
    }
    return new SnapshotPolicy(events);
  }

  public boolean enabled() {
    return every > 0;
  }

  /** True if a save that moved the stream from {@code before} to {@code after} should snapshot. */
  public boolean due(long before, long after) {
    return enabled() && after / every > before / every;
  }
}
