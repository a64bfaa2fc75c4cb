package dev.eventscan.eventstore.statistics;

import dev.eventscan.eventstore.statistics.Overview.Count;
import java.util.List;

/**
 * Counts per event type and per stream category, largest first, from the statistics projection's
 * counters (exact up to its checkpoint).
 */
public record Statistics(List<Count> byType, List<Count> byCategory) {}
