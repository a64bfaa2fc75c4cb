package dev.eventscan.scan.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UtcInstantDeserializerTest {
  private static final ObjectMapper JSON = ScanEventTypes.objectMapper();

  @Test
  void times_as_instants_write_them_read_back_the_same() {
    List<Instant> times =
        new ArrayList<>(
            List.of(
                Instant.EPOCH,
                Instant.parse("0000-01-01T00:00:00Z"),
                Instant.parse("2024-02-29T12:00:00.5Z"),
                Instant.parse("9999-12-31T23:59:59.999999999Z")));
    Random random = new Random(13);
    for (int i = 0; i < 2_000; i++) {
      Instant any =
          Instant.ofEpochSecond(random.nextLong(253_402_300_799L), random.nextInt(1_000_000_000));
      times.add(any);
      times.add(any.truncatedTo(ChronoUnit.MICROS));
      times.add(any.truncatedTo(ChronoUnit.MILLIS));
      times.add(any.truncatedTo(ChronoUnit.SECONDS));
    }
    for (Instant time : times) {
      assertThat(UtcInstantDeserializer.parse(time.toString())).as(time.toString()).isEqualTo(time);
    }
  }

  @Test
  void text_in_any_other_form_is_left_to_the_standard_reader() {
    for (String other :
        List.of(
            "2026-02-30T00:00:00Z",
            "2026-11-30T24:00:00Z",
            "2026-11-30T23:60:00Z",
            "2026-11-30T23:59:60Z",
            "2026-11-30T23:59:01.Z",
            "2026-11-30T23:59:01.1234567890Z",
            "2026-11-30T23:59:01.12a4Z",
            "+10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            "2026-11-30T23:59:01+01:00",
            "2026-11-30 23:59:01Z",
            "2026-11-30T23:59:01z",
            "")) {
      assertThat(UtcInstantDeserializer.parse(other)).as(other).isNull();
    }
  }

  @Test
  void the_scan_mapper_reads_instants_in_every_form_it_read_before() throws Exception {
    Instant time = Instant.parse("2026-11-30T23:59:01.123456Z");
    assertThat(JSON.readValue(JSON.writeValueAsString(time), Instant.class)).isEqualTo(time);
    assertThat(JSON.readValue("\"+10000-01-01T00:00:00Z\"", Instant.class))
        .isEqualTo(Instant.parse("+10000-01-01T00:00:00Z"));
    assertThat(JSON.readValue("1700000000.5", Instant.class))
        .isEqualTo(Instant.ofEpochSecond(1_700_000_000, 500_000_000));
  }
}
