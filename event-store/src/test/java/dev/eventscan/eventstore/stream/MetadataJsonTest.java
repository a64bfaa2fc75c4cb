package dev.eventscan.eventstore.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.eventstore.serialization.EventSerializationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** {@link MetadataJson#attribute} reads one attribute exactly as the whole {@code parse} does. */
class MetadataJsonTest {
  private static final List<String> NAMES =
      List.of("schemaVersion", "correlationId", "causationId", "other", "missing");

  @Test
  void one_attribute_is_what_the_parsed_metadata_holds() {
    List<String> documents =
        new ArrayList<>(
            List.of(
                "{}",
                "{\"schemaVersion\":\"2\"}",
                "{\"schemaVersion\":3}",
                "{\"schemaVersion\":-0}",
                "{\"schemaVersion\":12345678901234567890123}",
                "{\"schemaVersion\":2.50}",
                "{\"schemaVersion\":1e2}",
                "{\"schemaVersion\":true}",
                "{\"schemaVersion\":null}",
                "{\"schemaVersion\":{\"a\":[1,2]}}",
                "{\"schemaVersion\":[1]}",
                "{\"schemaVersion\":\"1\",\"schemaVersion\":\"4\"}",
                "{\"schemaVersion\":\"4\",\"schemaVersion\":null}",
                "{\"other\":{\"schemaVersion\":\"9\"},\"schemaVersion\":\"5\"}",
                "{\"other\":[{\"x\":1.5}],\"schemaVersion\":\"6\"}",
                "{\"correlationId\":\"c\",\"causationId\":\"d\",\"schemaVersion\":\"7\"}",
                "{\"sch\\u0065maVersion\":\"8\"}",
                "{\"schemaVersion\":\"\\u00e9\\n\"}",
                " { \"schemaVersion\" : \"9\" } ",
                "{\"schemaVersion\":\"1\"} trailing"));
    Random random = new Random(14);
    for (int i = 0; i < 2_000; i++) {
      documents.add(randomDocument(random));
    }
    for (String json : documents) {
      for (String name : NAMES) {
        assertThat(outcome(() -> MetadataJson.attribute(json, name)))
            .as("%s of %s", name, json)
            .isEqualTo(outcome(() -> MetadataJson.parse(json).attributes().get(name)));
      }
    }
    assertThat(MetadataJson.attribute(null, "schemaVersion")).isNull();
  }

  /** Found while writing the test above: parse threw a NullPointerException on it. */
  @Test
  void a_null_attribute_written_by_another_writer_is_an_absent_one() {
    EventMetadata parsed =
        MetadataJson.parse("{\"correlationId\":\"c\",\"schemaVersion\":null,\"a\":\"b\"}");
    assertThat(parsed.correlationId()).isEqualTo("c");
    assertThat(parsed.attributes()).containsExactly(java.util.Map.entry("a", "b"));
  }

  @Test
  void malformed_metadata_fails_as_parse_fails() {
    for (String json :
        List.of(
            "[]",
            "\"x\"",
            "{\"schemaVersion\":",
            "{\"schemaVersion\":\"1\"",
            "{\"other\":[1,,2],\"schemaVersion\":\"1\"}",
            "{schemaVersion:1}",
            "")) {
      assertThatThrownBy(() -> MetadataJson.parse(json))
          .as(json)
          .isInstanceOf(EventSerializationException.class);
      assertThatThrownBy(() -> MetadataJson.attribute(json, "schemaVersion"))
          .as(json)
          .isInstanceOf(EventSerializationException.class);
    }
  }

  /** The value, or the class of what was thrown. */
  private static Object outcome(Supplier<String> read) {
    try {
      return Optional.ofNullable(read.get());
    } catch (RuntimeException e) {
      return e.getClass();
    }
  }

  private static String randomDocument(Random random) {
    StringBuilder json = new StringBuilder("{");
    int fields = random.nextInt(5);
    for (int f = 0; f < fields; f++) {
      if (f > 0) {
        json.append(',');
      }
      json.append('"').append(NAMES.get(random.nextInt(NAMES.size()))).append("\":");
      json.append(
          switch (random.nextInt(7)) {
            case 0 -> "\"" + random.nextInt(100) + "\"";
            case 1 -> Integer.toString(random.nextInt(200) - 100);
            case 2 -> Long.toString(random.nextLong());
            case 3 -> "null";
            case 4 -> random.nextBoolean() ? "true" : "false";
            case 5 -> "{\"n\":[" + random.nextInt(9) + ",\"s\"]}";
            default -> "\"v" + random.nextInt(1000) + "\"";
          });
    }
    return json.append('}').toString();
  }
}
