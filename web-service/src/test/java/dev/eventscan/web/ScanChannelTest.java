package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A scan's channel, without HTTP. The summary read is the fault injected here: in the service it is
 * a read-model query, which fails when the database does (a pool timeout under load).
 */
class ScanChannelTest {
  private static RecordedEvent event(long version) {
    return new RecordedEvent(
        Position.parse("9-" + version),
        UUID.randomUUID(),
        "scan-s1",
        version,
        "Happened",
        "{}",
        "{}",
        Instant.now());
  }

  @Test
  void a_summary_that_cannot_be_read_leaves_its_event_without_one() {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      AtomicInteger reads = new AtomicInteger();
      ScanChannel channel =
          new ScanChannel(
              "s1",
              pool,
              event -> {
                if (reads.incrementAndGet() == 1) {
                  throw new IllegalStateException("the pool timed out");
                }
                return "{\"scanId\":\"s1\"}";
              },
              new FrameLog(16, pool, 1, new SimpleMeterRegistry().timer("fan_out")));

      // Before the fix the failure went up: on the channel's thread it ended the pass for good
      // (its "processing" flag stayed set, so no later event of the scan reached any viewer).
      assertThat(channel.summaryFrame(event(1))).isNull();
      assertThat(channel.summaryFrame(event(2))).isNotNull();
    } finally {
      pool.shutdownNow();
    }
  }
}
