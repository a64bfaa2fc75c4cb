package dev.eventscan.eventstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.serialization.EventSerializationException;
import dev.eventscan.eventstore.serialization.EventTypeRegistry;
import dev.eventscan.eventstore.serialization.JacksonEventSerializer;
import dev.eventscan.eventstore.serialization.UnknownEvent;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class SerializationTest {
  record ItemAdded(String sku, int quantity, List<String> tags) {}

  record Unregistered(int x) {}

  private final EventTypeRegistry registry =
      new EventTypeRegistry().register("ItemAdded", ItemAdded.class);
  private final JacksonEventSerializer serializer = new JacksonEventSerializer(registry);

  @Test
  void a_registered_record_round_trips_under_its_type_name() {
    ItemAdded event = new ItemAdded("sku-1", 2, List.of("red"));
    EventData data = serializer.serialize(event, EventMetadata.correlated("c", null));

    assertThat(data.type()).isEqualTo("ItemAdded");
    assertThat(data.metadata().correlationId()).isEqualTo("c");
    assertThat(serializer.deserialize(recorded(data.type(), data.data()))).isEqualTo(event);
  }

  @Test
  void an_unregistered_stored_type_reads_as_raw_json() {
    Object read = serializer.deserialize(recorded("SomethingOld", "{\"a\":[1,2]}"));

    assertThat(read).isInstanceOf(UnknownEvent.class);
    UnknownEvent unknown = (UnknownEvent) read;
    assertThat(unknown.type()).isEqualTo("SomethingOld");
    assertThat(unknown.data().get("a").get(1).asInt()).isEqualTo(2);
  }

  @Test
  void writing_an_unregistered_class_is_refused_with_a_hint() {
    assertThatThrownBy(() -> serializer.serialize(new Unregistered(1), EventMetadata.EMPTY))
        .isInstanceOf(EventSerializationException.class)
        .hasMessageContaining("not registered");
  }

  @Test
  void one_name_cannot_map_to_two_classes() {
    assertThatThrownBy(() -> registry.register("ItemAdded", Unregistered.class))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void positions_order_by_transaction_then_id_and_round_trip_as_text() {
    Position early = new Position(10, 99);
    Position late = new Position(11, 5);
    assertThat(early).isLessThan(late);
    assertThat(Position.parse(late.toString())).isEqualTo(late);
    assertThat(Position.parse(Position.END.toString())).isEqualTo(Position.END);
    assertThat(Position.START).isLessThan(early);
  }

  @Test
  void a_stored_schema_version_newer_or_malformed_is_refused_not_misread() {
    String data = "{\"sku\":\"sku-1\",\"quantity\":2,\"tags\":[]}";
    assertThatThrownBy(
            () -> serializer.deserialize(recorded("ItemAdded", data, "{\"schemaVersion\":\"2\"}")))
        .isInstanceOf(EventSerializationException.class)
        .hasMessageContaining("newer");
    assertThatThrownBy(
            () -> serializer.deserialize(recorded("ItemAdded", data, "{\"schemaVersion\":\"x1\"}")))
        .isInstanceOf(EventSerializationException.class)
        .hasMessageContaining("malformed");
    assertThat(serializer.deserialize(recorded("ItemAdded", data, "{\"schemaVersion\":\"1\"}")))
        .isEqualTo(new ItemAdded("sku-1", 2, List.of()));
  }

  private static RecordedEvent recorded(String type, String data) {
    return recorded(type, data, "{}");
  }

  private static RecordedEvent recorded(String type, String data, String metadataJson) {
    return new RecordedEvent(
        new Position(1, 1), UUID.randomUUID(), "s-1", 1, type, data, metadataJson, Instant.now());
  }
}
