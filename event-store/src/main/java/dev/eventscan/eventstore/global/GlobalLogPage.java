package dev.eventscan.eventstore.global;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.util.List;

/**
 * One page of the global log.
 *
 * @param next where to continue reading: the last event's position, or, when the page is not full,
 *     the last position read past (a filtered reader moves past events it does not want); never
 *     before the position read from
 * @param endOfLog true when the reader has caught up with everything that is safe to read now. A
 *     filtered page can hold fewer events than asked for, even none, without being the end: a
 *     filtered read walks at most some tens of thousands of events a call, so that it never runs
 *     long; continue from {@code next} until this is true
 */
public record GlobalLogPage(List<RecordedEvent> events, Position next, boolean endOfLog) {}
