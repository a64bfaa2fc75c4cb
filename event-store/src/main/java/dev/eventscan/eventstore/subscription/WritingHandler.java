package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.util.List;

/** See {@link TransactionalEventHandler#ofWrites}: its deliveries send the writes themselves. */
final class WritingHandler implements TransactionalEventHandler {
  private final BatchWrites writes;

  WritingHandler(BatchWrites writes) {
    this.writes = writes;
  }

  /** The batch's writes, not yet run. */
  SqlWrites writes(List<RecordedEvent> events, Connection transaction) throws Exception {
    SqlWrites batch = writes.writes(events, transaction);
    if (batch == null) {
      throw new IllegalStateException("a handler's writes must not be null (SqlWrites.none())");
    }
    return batch;
  }

  @Override
  public void handle(RecordedEvent event, Connection transaction) throws Exception {
    handleBatch(List.of(event), transaction);
  }

  @Override
  public void handleBatch(List<RecordedEvent> events, Connection transaction) throws Exception {
    writes(events, transaction).execute(transaction);
  }
}
