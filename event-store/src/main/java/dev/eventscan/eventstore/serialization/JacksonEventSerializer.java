package dev.eventscan.eventstore.serialization;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.MetadataJson;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.util.Optional;
import java.util.UUID;

/** JSON through Jackson, with types named by an explicit {@link EventTypeRegistry}. */
public final class JacksonEventSerializer implements EventSerializer {
  private final ObjectMapper mapper;
  private final EventTypeRegistry registry;

  public JacksonEventSerializer(EventTypeRegistry registry) {
    this(
        new ObjectMapper()
            .findAndRegisterModules()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES),
        registry);
  }

  public JacksonEventSerializer(ObjectMapper mapper, EventTypeRegistry registry) {
    this.mapper = mapper;
    this.registry = registry;
  }

  /** Metadata attribute holding the event's schema version; absent means version 1. */
  public static final String SCHEMA_VERSION = "schemaVersion";

  @Override
  public EventData serialize(Object event, EventMetadata metadata) {
    String type = registry.nameOf(event.getClass());
    int version = registry.currentVersion(type);
    EventMetadata stored =
        version == 1 ? metadata : metadata.withAttribute(SCHEMA_VERSION, Integer.toString(version));
    try {
      return new EventData(UUID.randomUUID(), type, mapper.writeValueAsString(event), stored);
    } catch (JsonProcessingException e) {
      throw new EventSerializationException("could not write event " + type + " as JSON", e);
    }
  }

  /** The schema version the event was written in: 1 when absent, never newer than ours. */
  private static int storedVersion(RecordedEvent event, int current) {
    String text = MetadataJson.attribute(event.metadataJson(), SCHEMA_VERSION);
    if (text == null) {
      return 1;
    }
    int stored;
    try {
      stored = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      stored = 0;
    }
    if (stored < 1) {
      throw new EventSerializationException(
          "event " + event.eventId() + " has a malformed " + SCHEMA_VERSION + ": " + text);
    }
    if (stored > current) {
      throw new EventSerializationException(
          "event "
              + event.eventId()
              + " of type "
              + event.type()
              + " was written in schema version "
              + stored
              + ", newer than this application's "
              + current
              + "; deploy the newer version to read it");
    }
    return stored;
  }

  @Override
  public Object deserialize(RecordedEvent event) {
    Optional<Class<?>> eventClass = registry.classOf(event.type());
    try {
      if (eventClass.isEmpty()) {
        return new UnknownEvent(event.type(), mapper.readTree(event.data()));
      }
      int current = registry.currentVersion(event.type());
      int stored = storedVersion(event, current);
      if (stored == current) {
        return mapper.readValue(event.data(), eventClass.get());
      }
      JsonNode upcast = registry.upcast(event.type(), stored, mapper.readTree(event.data()));
      return mapper.treeToValue(upcast, eventClass.get());
    } catch (JsonProcessingException e) {
      throw new EventSerializationException(
          "could not read event " + event.eventId() + " of type " + event.type(), e);
    }
  }
}
