package dev.eventscan.eventstore.stream;

public enum ReadDirection {
  FORWARDS,
  BACKWARDS
}
