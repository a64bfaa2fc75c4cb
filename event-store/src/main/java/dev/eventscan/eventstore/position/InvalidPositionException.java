package dev.eventscan.eventstore.position;

import dev.eventscan.eventstore.InvalidInputException;

/** A position string or value that does not denote a place in the log. */
public class InvalidPositionException extends InvalidInputException {
  public InvalidPositionException(String message) {
    super(message);
  }
}
