package dev.eventscan.eventstore.serialization;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
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

  @Override
  public EventData serialize(Object event, EventMetadata metadata) {
    String type = registry.nameOf(event.getClass());
    try {
      return new EventData(UUID.randomUUID(), type, mapper.writeValueAsString(event), metadata);
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
      return mapper.readValue(event.data(), eventClass.get());
    } catch (JsonProcessingException e) {
      throw new EventSerializationException(
          "could not read event " + event.eventId() + " of type " + event.type(), e);
    }
  }
}
