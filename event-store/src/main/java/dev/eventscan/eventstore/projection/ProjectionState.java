package dev.eventscan.eventstore.projection;

/** Where a projection is: handling events, rebuilding from the start, stopped, or failed. */
public enum ProjectionState {
  RUNNING,
  REBUILDING,
  STOPPED,
  FAILED;

  /** The name in the projections table and in JSON: lower case. */
  @com.fasterxml.jackson.annotation.JsonValue
  public String storedName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  static ProjectionState fromStored(String stored) {
    return valueOf(stored.toUpperCase(java.util.Locale.ROOT));
  }
}
