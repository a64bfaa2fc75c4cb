package dev.eventscan.eventstore.projection;

import dev.eventscan.eventstore.position.Position;

/** What a replay would process: the dry run of a rebuild or a replay from a position. */
public record ReplayPlan(String projection, Position after, Position upTo, long events) {}
