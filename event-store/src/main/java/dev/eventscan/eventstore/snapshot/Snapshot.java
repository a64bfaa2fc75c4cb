package dev.eventscan.eventstore.snapshot;

/**
 * An aggregate's state after {@code streamVersion} events, in snapshot schema {@code
 * schemaVersion}.
 */
public record Snapshot<S>(String streamId, long streamVersion, int schemaVersion, S state) {}
