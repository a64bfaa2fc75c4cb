package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.EventStoreStorageException;

/**
 * The connection to PostgreSQL failed while the append was committing: it may or may not have been
 * written. Send the same events again, with the same event ids: if the first attempt was written,
 * the store returns its result instead of writing twice. Any other {@link
 * EventStoreStorageException} from an append means nothing was written.
 */
public class AppendOutcomeUnknownException extends EventStoreStorageException {
  private final String streamId;

  public AppendOutcomeUnknownException(String streamId, Throwable cause) {
    super(
        "the connection failed while committing the append to '"
            + streamId
            + "', so it may or may not be written; retry with the same event ids to find out"
            + " (cause: "
            + cause.getMessage()
            + ")",
        cause);
    this.streamId = streamId;
  }

  public String streamId() {
    return streamId;
  }
}
