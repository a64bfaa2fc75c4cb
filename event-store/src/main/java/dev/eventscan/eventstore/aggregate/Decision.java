package dev.eventscan.eventstore.aggregate;

import java.util.List;

/**
 * A command's logic: given the current state, the events that should happen. Throw to refuse the
 * command; return no events for a command that changes nothing (e.g. one already applied).
 */
@FunctionalInterface
public interface Decision<S, E> {
  List<E> decide(S state);
}
