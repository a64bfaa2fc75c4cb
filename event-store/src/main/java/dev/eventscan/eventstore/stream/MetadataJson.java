package dev.eventscan.eventstore.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventscan.eventstore.serialization.EventSerializationException;
import java.util.LinkedHashMap;
import java.util.Map;

/** The flat JSON form of {@link EventMetadata}. */
public final class MetadataJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

  private MetadataJson() {}

  public static String write(EventMetadata metadata) {
    if (metadata.correlationId() == null
        && metadata.causationId() == null
        && metadata.attributes().isEmpty()) {
      return "{}";
    }
    Map<String, Object> json = new LinkedHashMap<>();
    if (metadata.correlationId() != null) {
      json.put("correlationId", metadata.correlationId());
    }
    if (metadata.causationId() != null) {
      json.put("causationId", metadata.causationId());
    }
    json.putAll(metadata.attributes());
    try {
      return MAPPER.writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new EventSerializationException("metadata could not be written as JSON", e);
    }
  }

  public static EventMetadata parse(String json) {
    if (json == null || json.equals("{}")) {
      return EventMetadata.EMPTY;
    }
    try {
      Map<String, Object> map = MAPPER.readValue(json, MAP);
      Object correlationId = map.remove("correlationId");
      Object causationId = map.remove("causationId");
      Map<String, String> attributes = new LinkedHashMap<>();
      map.forEach((key, value) -> attributes.put(key, value == null ? null : value.toString()));
      return new EventMetadata(asString(correlationId), asString(causationId), attributes);
    } catch (JsonProcessingException e) {
      throw new EventSerializationException("stored metadata is not a JSON object: " + json, e);
    }
  }

  private static String asString(Object value) {
    return value == null ? null : value.toString();
  }
}
