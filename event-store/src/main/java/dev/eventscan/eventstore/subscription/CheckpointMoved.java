package dev.eventscan.eventstore.subscription;

/** Another worker moved the checkpoint: roll back and start over from where it is now. */
final class CheckpointMoved extends Exception {
  CheckpointMoved() {
    super(null, null, false, false);
  }
}
