package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.stream.AppendResult;

/** What a coalesced batch came to for one of its appends. */
sealed interface BatchOutcome {
  /** Committed and durable. */
  record Appended(AppendResult result) implements BatchOutcome {}

  /**
   * Nothing of this append was written: its expected version did not hold, an event id was taken,
   * another append of the batch broke the statement, or the batch never reached its commit. The
   * caller appends on its own, which explains the refusal or writes it.
   */
  record NotWritten() implements BatchOutcome {}

  /** The connection failed while the batch was committing: written or not, nobody knows. */
  record Unknown(Throwable cause) implements BatchOutcome {}
}
