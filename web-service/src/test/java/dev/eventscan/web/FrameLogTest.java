package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.web.SseStream.Frame;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** The shared frame ring, without HTTP: what it does while the hub shuts down. */
class FrameLogTest {
  @Test
  void a_frame_appended_while_the_writers_shut_down_is_kept_without_an_error() {
    ExecutorService writers = Executors.newSingleThreadExecutor();
    FrameLog log = new FrameLog(16, writers, 2, new SimpleMeterRegistry().timer("fan_out"));
    writers.shutdown(); // LiveHub.close: a scan's summary thread may still append and wake

    log.append(new Frame(Position.parse("7-1"), "data: {}\n\n".getBytes(StandardCharsets.UTF_8)));

    // Before the fix the RejectedExecutionException ended the summary thread with a stack trace.
    assertThatCode(log::wake).doesNotThrowAnyException();
    assertThat(log.head()).isEqualTo(1);
  }
}
