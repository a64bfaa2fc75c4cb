package dev.eventscan.eventstore.aggregate;

/** A loaded aggregate: its state and the stream version it reflects (0 for one never saved). */
public record Aggregate<S>(String id, S state, long version) {
  public boolean isNew() {
    return version == 0;
  }
}
