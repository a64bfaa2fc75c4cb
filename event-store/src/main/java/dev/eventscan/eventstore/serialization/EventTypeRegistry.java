package dev.eventscan.eventstore.serialization;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The explicit mapping between stored event type names and Java classes. Names are what is stored,
 * so classes can be renamed or moved without touching the log.
 */
public final class EventTypeRegistry {
  private final Map<String, Class<?>> classesByName = new HashMap<>();
  private final Map<Class<?>, String> namesByClass = new HashMap<>();

  public EventTypeRegistry register(String typeName, Class<?> eventClass) {
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
