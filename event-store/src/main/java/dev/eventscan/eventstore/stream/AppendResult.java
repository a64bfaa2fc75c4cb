package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.position.Position;

/**
 * The outcome of an append.
 *
 * @param streamVersion the stream's version after the append (the last event's version)
 * @param lastPosition the global position of the last event appended
 */
public record AppendResult(String streamId, long streamVersion, Position lastPosition) {}
