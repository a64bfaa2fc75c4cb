package dev.eventscan.eventstore.stream;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventscan.eventstore.serialization.EventSerializationException;
import java.io.IOException;
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
      // A null attribute (written by something other than this library) is an absent one:
      // EventMetadata holds no nulls, and reading the event must not fail on it.
      map.forEach(
          (key, value) -> {
            if (value != null) {
              attributes.put(key, value.toString());
            }
          });
      return new EventMetadata(asString(correlationId), asString(causationId), attributes);
    } catch (JsonProcessingException e) {
      throw new EventSerializationException("stored metadata is not a JSON object: " + json, e);
    }
  }

  /**
   * The attribute {@code name} of stored metadata, as {@code parse(json).attributes().get(name)}
   * returns it, without building the whole map: a reader that needs one attribute of every event
   * (the serializer's schema version) scans the JSON's tokens instead. Values whose text could
   * differ from what {@link #parse} makes of them (fractions, objects, arrays), and anything
   * malformed, are left to {@link #parse}.
   */
  public static String attribute(String json, String name) {
    if (json == null || json.equals("{}") || isEnvelope(name)) {
      return parse(json).attributes().get(name);
    }
    try (JsonParser parser = MAPPER.getFactory().createParser(json)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return parse(json).attributes().get(name);
      }
      String found = null;
      JsonToken token;
      for (token = parser.nextToken(); token == JsonToken.FIELD_NAME; token = parser.nextToken()) {
        boolean wanted = name.equals(parser.currentName());
        JsonToken value = parser.nextToken();
        if (!wanted) {
          parser.skipChildren(); // still reads them: malformed JSON fails as in parse
          continue;
        }
        switch (value == null ? JsonToken.NOT_AVAILABLE : value) {
          // the last of duplicate keys wins, as in parse
          case VALUE_STRING, VALUE_TRUE, VALUE_FALSE -> found = parser.getText();
          case VALUE_NULL -> found = null;
          case VALUE_NUMBER_INT -> found = parser.getNumberValue().toString(); // as parse: -0 is 0
          default -> {
            return parse(json).attributes().get(name);
          }
        }
      }
      return token == JsonToken.END_OBJECT ? found : parse(json).attributes().get(name);
    } catch (IOException e) {
      return parse(json).attributes().get(name); // throws parse's own error
    }
  }

  private static boolean isEnvelope(String name) {
    return name.equals("correlationId") || name.equals("causationId");
  }

  private static String asString(Object value) {
    return value == null ? null : value.toString();
  }
}
