package dev.eventscan.eventstore.serialization;

import com.fasterxml.jackson.databind.JsonNode;

/** A stored event whose type has no registered class: still readable as raw JSON. */
public record UnknownEvent(String type, JsonNode data) {}
