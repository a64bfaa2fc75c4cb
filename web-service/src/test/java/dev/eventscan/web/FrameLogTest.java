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

  /**
   * Each writer walks its own share of the clients, whose cursors differ from the other share's:
   * the spans for both are built once and shared, not rebuilt at every turn between them.
   */
  @Test
  void clients_at_two_cursors_in_turn_share_one_span_each() {
    FrameLog log = new FrameLog(16, Runnable::run, 2, new SimpleMeterRegistry().timer("fan_out"));
    for (int i = 1; i <= 4; i++) {
      log.append(new Frame(Position.parse("7-" + i), ("data: " + i + "\n\n").getBytes()));
    }

    FrameLog.Span first = log.span(0, 1 << 16);
    FrameLog.Span second = log.span(2, 1 << 16);

    assertThat(log.span(0, 1 << 16)).isSameAs(first);
    assertThat(log.span(2, 1 << 16)).isSameAs(second);
    assertThat(new String(second.bytes(), StandardCharsets.UTF_8))
        .isEqualTo("data: 3\n\ndata: 4\n\n");
  }
}
