package dev.eventscan.eventstore.projection;

public enum ProjectionState {
  RUNNING,
  REBUILDING,
  STOPPED,
  FAILED;

  public String storedName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
