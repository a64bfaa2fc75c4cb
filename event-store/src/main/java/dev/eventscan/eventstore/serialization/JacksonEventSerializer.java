package dev.eventscan.eventstore.serialization;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
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

  @Override
  public Object deserialize(RecordedEvent event) {
    Optional<Class<?>> eventClass = registry.classOf(event.type());
    try {
      if (eventClass.isEmpty()) {
        return new UnknownEvent(event.type(), mapper.readTree(event.data()));
      }
      int current = registry.currentVersion(event.type());
      if (current == 1) {
        return mapper.readValue(event.data(), eventClass.get());
      }
      String stored = event.metadata().attributes().getOrDefault(SCHEMA_VERSION, "1");
      JsonNode upcast =
          registry.upcast(event.type(), Integer.parseInt(stored), mapper.readTree(event.data()));
      return mapper.treeToValue(upcast, eventClass.get());
    } catch (JsonProcessingException e) {
      throw new EventSerializationException(
          "could not read event " + event.eventId() + " of type " + event.type(), e);
    }
  }
}
