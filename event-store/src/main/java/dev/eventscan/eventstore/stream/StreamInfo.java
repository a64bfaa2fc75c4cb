package dev.eventscan.eventstore.stream;

import java.time.Instant;
import java.util.Optional;

/** What the store knows about a stream apart from its events. */
public record StreamInfo(
    String streamId,
    long version,
    Instant createdAt,
    Instant updatedAt,
    Optional<Instant> deletedAt) {

  public boolean deleted() {
    return deletedAt.isPresent();
  }
}
