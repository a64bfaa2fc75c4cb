package dev.eventscan.eventstore.serialization;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The explicit mapping between stored event type names and Java classes. Names are what is stored,
 * so classes can be renamed or moved without touching the log.
 */
public final class EventTypeRegistry {
  private final Map<String, Class<?>> classesByName = new HashMap<>();
  private final Map<Class<?>, String> namesByClass = new HashMap<>();
  private final Map<String, Integer> currentVersions = new HashMap<>();
  private final Map<String, UnaryOperator<JsonNode>> upcasters = new HashMap<>();

  /** Registers a type at schema version 1. */
  public EventTypeRegistry register(String typeName, Class<?> eventClass) {
    return register(typeName, eventClass, 1);
  }

  /**
   * Registers a type whose current JSON shape is {@code currentVersion}; events stored in older
   * versions are upcast on read by the upcasters registered with {@link #upcaster}.
   */
  public EventTypeRegistry register(String typeName, Class<?> eventClass, int currentVersion) {
    if (currentVersion < 1) {
      throw new IllegalArgumentException("schema versions start at 1");
    }
    currentVersions.put(typeName, currentVersion);
    return registerName(typeName, eventClass);
  }

  /** Turns the stored JSON of {@code typeName} at {@code fromVersion} into version + 1. */
  public EventTypeRegistry upcaster(
      String typeName, int fromVersion, UnaryOperator<JsonNode> upcast) {
    if (upcasters.putIfAbsent(typeName + "@" + fromVersion, upcast) != null) {
      throw new IllegalArgumentException(
          "an upcaster for " + typeName + " v" + fromVersion + " is already registered");
    }
    return this;
  }

  public int currentVersion(String typeName) {
    return currentVersions.getOrDefault(typeName, 1);
  }

  /** Brings stored JSON from {@code storedVersion} to the current version, one step at a time. */
  public JsonNode upcast(String typeName, int storedVersion, JsonNode data) {
    int current = currentVersion(typeName);
    if (storedVersion > current) {
      throw new EventSerializationException(
          typeName + " v" + storedVersion + " is newer than this code knows (v" + current + ")");
    }
    JsonNode node = data;
    for (int version = storedVersion; version < current; version++) {
      UnaryOperator<JsonNode> step = upcasters.get(typeName + "@" + version);
      if (step == null) {
        throw new EventSerializationException(
            "no upcaster from " + typeName + " v" + version + " to v" + (version + 1));
      }
      node = step.apply(node);
    }
    return node;
  }

  private EventTypeRegistry registerName(String typeName, Class<?> eventClass) {
    if (typeName == null || typeName.isBlank()) {
      throw new IllegalArgumentException("event type name must not be blank");
    }
    Class<?> previousClass = classesByName.get(typeName);
    String previousName = namesByClass.get(eventClass);
    if ((previousClass != null && previousClass != eventClass)
        || (previousName != null && !previousName.equals(typeName))) {
      throw new IllegalArgumentException(
          "event type '" + typeName + "' / " + eventClass.getName() + " is already registered");
    }
    classesByName.put(typeName, eventClass);
    namesByClass.put(eventClass, typeName);
    return this;
  }

  public Optional<Class<?>> classOf(String typeName) {
    return Optional.ofNullable(classesByName.get(typeName));
  }

  /** The stored name of an event class. */
  public String nameOf(Class<?> eventClass) {
    String name = namesByClass.get(eventClass);
    if (name == null) {
      throw new EventSerializationException(
          eventClass.getName() + " is not registered; register it with a stable type name");
    }
    return name;
  }
}
