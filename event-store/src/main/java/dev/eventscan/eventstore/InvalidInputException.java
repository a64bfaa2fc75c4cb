package dev.eventscan.eventstore;

/** Input the store refuses; the message names the problem. Nothing was written or read. */
public class InvalidInputException extends EventStoreException {
  public InvalidInputException(String message) {
    super(message);
  }

  public InvalidInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
