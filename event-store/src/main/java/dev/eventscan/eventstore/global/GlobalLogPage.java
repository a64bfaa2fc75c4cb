package dev.eventscan.eventstore.global;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.util.List;

/**
 * One page of the global log.
 *
 * @param next where to continue reading: the last event's position, or the position read from when
 *     the page is empty
 * @param endOfLog true when the page held fewer events than asked for, i.e. the reader has caught
 *     up with everything that is safe to read now
 */
public record GlobalLogPage(List<RecordedEvent> events, Position next, boolean endOfLog) {}
