package dev.eventscan.eventstore.stream;

/** Which way a stream is read: oldest first or newest first. */
public enum ReadDirection {
  FORWARDS,
  BACKWARDS
}
