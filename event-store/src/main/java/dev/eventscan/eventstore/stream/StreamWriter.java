package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.InvalidInputException;
import java.util.List;

/** Appends events to streams, with optimistic concurrency. */
public interface StreamWriter {
  /**
   * Appends events to one stream atomically.
   *
   * @throws WrongExpectedVersionException the stream is not at the expected version
   * @throws StreamDeletedException the stream was deleted
   * @throws DuplicateEventIdException an event id was already used by another append
   * @throws InvalidInputException the input is invalid; nothing was written
   */
  AppendResult append(String streamId, ExpectedVersion expectedVersion, List<EventData> events);

  default AppendResult append(
      String streamId, ExpectedVersion expectedVersion, EventData... events) {
    return append(streamId, expectedVersion, List.of(events));
  }

  /**
   * Appends to several streams in one transaction: all or nothing. Streams are locked in stream id
   * order (so two such appends never deadlock), which is also the order of their global positions.
   * Results are returned in the order of the request.
   */
  List<AppendResult> appendAtomically(List<StreamAppend> appends);

  /**
   * Soft-deletes a stream: its events stay in the global log and in {@link StreamInfo}, further
   * appends and stream reads fail with {@link StreamDeletedException}.
   *
   * @throws StreamNotFoundException the stream was never written
   */
  void deleteStream(String streamId, ExpectedVersion expectedVersion);
}
