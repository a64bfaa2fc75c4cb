package dev.eventscan.eventstore.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.serialization.EventSerializationException;
import dev.eventscan.eventstore.serialization.EventTypeRegistry;
import dev.eventscan.eventstore.serialization.JacksonEventSerializer;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.testsupport.PostgresExtension;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class UpcastingTest {
  /** Today's shape (v3): v1 had "name"; v2 split it into first/last; v3 added a country. */
  record CustomerRegistered(String firstName, String lastName, String country) {}

  private static EventTypeRegistry currentRegistry() {
    return new EventTypeRegistry()
        .register("CustomerRegistered", CustomerRegistered.class, 3)
        .upcaster(
            "CustomerRegistered",
            1,
            v1 -> {
              String[] parts = v1.get("name").asText().split(" ", 2);
              ObjectNode v2 = ((ObjectNode) v1).objectNode();
              v2.put("firstName", parts[0]);
              v2.put("lastName", parts.length > 1 ? parts[1] : "");
              return v2;
            })
        .upcaster(
            "CustomerRegistered", 2, v2 -> ((ObjectNode) v2.deepCopy()).put("country", "unknown"));
  }

  @Test
  void v1_events_stored_before_two_changes_read_as_the_current_type(DataSource dataSource) {
    EventStore store = EventStore.builder(dataSource).build();
    String streamId = "customer-" + UUID.randomUUID();
    // Written by the old code: no schema version in the metadata means version 1.
    store.append(
        streamId,
        ExpectedVersion.noStream(),
        EventData.of("CustomerRegistered", "{\"name\":\"Ada Lovelace\"}"));
    JacksonEventSerializer current = new JacksonEventSerializer(currentRegistry());
    store.append(
        streamId,
        ExpectedVersion.exactly(1),
        current.serialize(new CustomerRegistered("Grace", "Hopper", "US"), EventMetadata.EMPTY));

    List<RecordedEvent> stored = store.readStream(streamId).events();

    assertThat(current.deserialize(stored.get(0)))
        .isEqualTo(new CustomerRegistered("Ada", "Lovelace", "unknown"));
    assertThat(stored.get(1).metadata().attributes())
        .containsEntry(JacksonEventSerializer.SCHEMA_VERSION, "3");
    assertThat(current.deserialize(stored.get(1)))
        .isEqualTo(new CustomerRegistered("Grace", "Hopper", "US"));
  }

  @Test
  void a_missing_step_in_the_chain_is_reported() {
    EventTypeRegistry incomplete =
        new EventTypeRegistry().register("CustomerRegistered", CustomerRegistered.class, 3);
    RecordedEvent v1 =
        new RecordedEvent(
            new dev.eventscan.eventstore.position.Position(1, 1),
            UUID.randomUUID(),
            "customer-1",
            1,
            "CustomerRegistered",
            "{\"name\":\"A B\"}",
            "{}",
            java.time.Instant.now());

    assertThatThrownBy(() -> new JacksonEventSerializer(incomplete).deserialize(v1))
        .isInstanceOf(EventSerializationException.class)
        .hasMessageContaining("no upcaster from CustomerRegistered v1 to v2");
  }
}
