package dev.eventscan.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.type.LogicalType;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** JSON in and out: strict for requests, ISO times out. */
final class Json {
  static final ObjectMapper MAPPER = strict(ScanEventTypes.objectMapper().copy());

  /** Requests get no guessing: unknown fields and numbers-for-strings (or back) are errors. */
  private static ObjectMapper strict(ObjectMapper mapper) {
    mapper
        .registerModule(new com.fasterxml.jackson.datatype.jdk8.Jdk8Module())
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    for (LogicalType type :
        List.of(LogicalType.Textual, LogicalType.Integer, LogicalType.Boolean)) {
      mapper
          .coercionConfigFor(type)
          .setCoercion(
              CoercionInputShape.Integer,
              type == LogicalType.Integer ? CoercionAction.TryConvert : CoercionAction.Fail)
          .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
          .setCoercion(
              CoercionInputShape.Boolean,
              type == LogicalType.Boolean ? CoercionAction.TryConvert : CoercionAction.Fail)
          .setCoercion(
              CoercionInputShape.String,
              type == LogicalType.Textual ? CoercionAction.TryConvert : CoercionAction.Fail);
    }
    return mapper;
  }

  private Json() {}

  static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("response could not be written as JSON", e);
    }
  }

  /** Parses a request body; every failure becomes a 400 naming the problem and the field. */
  static <T> T read(String body, Class<T> type) {
    if (body == null || body.isBlank()) {
      throw ApiException.badRequest("request body must be a JSON object");
    }
    try {
      return MAPPER.readValue(body, type);
    } catch (UnrecognizedPropertyException e) {
      throw ApiException.badRequest("unknown field '" + e.getPropertyName() + "'");
    } catch (MismatchedInputException e) {
      String field =
          e.getPath().stream()
              .map(
                  reference ->
                      reference.getFieldName() == null
                          ? "[" + reference.getIndex() + "]"
                          : reference.getFieldName())
              .collect(Collectors.joining("."));
      throw ApiException.badRequest(
          field.isEmpty()
              ? "request body must be a JSON object"
              : "field '" + field + "' has the wrong type");
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest("malformed JSON: " + e.getOriginalMessage());
    }
  }

  /** The public view of an event: no internal metadata beyond the correlation id. */
  static Map<String, Object> event(RecordedEvent event) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("position", event.position().toString());
    view.put("eventId", event.eventId());
    view.put("streamId", event.streamId());
    view.put("version", event.streamVersion());
    view.put("type", event.type());
    view.put("data", tree(event.data()));
    view.put("recordedAt", event.recordedAt());
    view.put("correlationId", event.metadata().correlationId());
    return view;
  }

  static JsonNode tree(String json) {
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      return MAPPER.getNodeFactory().textNode(json);
    }
  }
}
