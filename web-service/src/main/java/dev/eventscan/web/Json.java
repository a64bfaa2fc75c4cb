package dev.eventscan.web;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import com.fasterxml.jackson.databind.type.LogicalType;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
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

  /** Appends {@code value} as JSON to {@code out}. */
  static void writeTo(ByteArrayOutputStream out, Object value) {
    try {
      MAPPER.writeValue(out, value); // closing a ByteArrayOutputStream does nothing
    } catch (IOException e) {
      throw new IllegalStateException("response could not be written as JSON", e);
    }
  }

  /**
   * Parses a request body; every failure becomes a 400 naming the problem and the field, in words
   * for the caller (Jackson's own messages name its classes and settings).
   */
  static <T> T read(String body, Class<T> type) {
    if (body == null || body.isBlank()) {
      throw ApiException.badRequest("request body must be a JSON object");
    }
    T value;
    try {
      value = MAPPER.readValue(body, type);
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest(describe(e));
    }
    if (value == null) {
      throw ApiException.badRequest("request body must be a JSON object, not null");
    }
    return value;
  }

  private static String describe(JsonProcessingException e) {
    String field = field(e);
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof StreamConstraintsException) {
        return "request body is too deeply nested or holds a number or string that is too long";
      }
      if (cause instanceof InputCoercionException) {
        return field.isEmpty()
            ? "a number in the request body is out of range"
            : "field '" + field + "' is out of range";
      }
    }
    if (e instanceof UnrecognizedPropertyException unknown) {
      return "unknown field '" + abbreviate(unknown.getPropertyName()) + "'";
    }
    if (e instanceof JsonMappingException) {
      return field.isEmpty()
          ? "request body must be a JSON object"
          : "field '" + field + "' has the wrong type";
    }
    JsonLocation at = e.getLocation();
    return at == null || at.getLineNr() < 1
        ? "malformed JSON"
        : "malformed JSON at line " + at.getLineNr() + ", column " + at.getColumnNr();
  }

  private static String field(JsonProcessingException e) {
    if (!(e instanceof JsonMappingException mapping)) {
      return "";
    }
    return abbreviate(
        mapping.getPath().stream()
            .map(
                reference ->
                    reference.getFieldName() == null
                        ? "[" + reference.getIndex() + "]"
                        : reference.getFieldName())
            .collect(Collectors.joining(".")));
  }

  private static String abbreviate(String text) {
    return text.length() > 60 ? text.substring(0, 60) + "..." : text;
  }

  /** The error body every failure answers with: {@code {"error":{"code":...,"message":...}}}. */
  static String error(String code, String message) {
    return write(Map.of("error", Map.of("code", code, "message", withoutClassNames(message))));
  }

  private static final Pattern CLASS_NAME =
      Pattern.compile("(?:[a-z_][\\w$]*\\.)+[A-Z][\\w$]*(?:Exception|Error)(?::\\s*)?");

  /**
   * A last line of defence: some library messages start with the exception's class name (the JDK's
   * IDN errors do); callers are told what is wrong, not which class noticed.
   */
  static String withoutClassNames(String message) {
    return message == null ? "" : CLASS_NAME.matcher(message).replaceAll("").strip();
  }

  /** The public view of an event: no internal metadata beyond the correlation id. */
  static EventView event(RecordedEvent event) {
    return new EventView(event, false);
  }

  /** The console's view: the public view plus the causation id and every metadata field. */
  static EventView eventDetail(RecordedEvent event) {
    return new EventView(event, true);
  }

  /**
   * An event as the API shows it, written field by field. The data and metadata are embedded as
   * stored: they come from jsonb columns, whose text form is valid JSON on one line, so parsing
   * them into a tree and writing it again (most of the live feed's cost per event) adds nothing.
   */
  record EventView(RecordedEvent event, boolean detail) implements JsonSerializable {
    @Override
    public void serialize(JsonGenerator json, SerializerProvider serializers) throws IOException {
      EventMetadata metadata = event.metadata();
      json.writeStartObject();
      json.writeStringField("position", event.position().toString());
      json.writeStringField("eventId", event.eventId().toString());
      json.writeStringField("streamId", event.streamId());
      json.writeNumberField("version", event.streamVersion());
      json.writeStringField("type", event.type());
      writeRaw(json, "data", event.data());
      json.writeStringField("recordedAt", event.recordedAt().toString());
      json.writeStringField("correlationId", metadata.correlationId());
      if (detail) {
        json.writeStringField("causationId", metadata.causationId());
        writeRaw(json, "metadata", event.metadataJson());
      }
      json.writeEndObject();
    }

    private static void writeRaw(JsonGenerator json, String field, String storedJson)
        throws IOException {
      json.writeFieldName(field);
      if (storedJson == null) {
        json.writeNull();
      } else {
        json.writeRawValue(storedJson);
      }
    }

    @Override
    public void serializeWithType(
        JsonGenerator json, SerializerProvider serializers, TypeSerializer typeSerializer)
        throws IOException {
      serialize(json, serializers);
    }
  }

  static JsonNode tree(String json) {
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      return MAPPER.getNodeFactory().textNode(json);
    }
  }
}
