package dev.eventscan.web;

import dev.eventscan.eventstore.position.Position;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One client over one or more connections, as EventSource behaves: when the server lets its stream
 * go (a client that fell behind, or looked dead), it connects again with the last id received.
 */
final class ResumingSseClient {
  final Position start; // null: it started live, at whatever came first
  final List<SseClientForTests> connections = new CopyOnWriteArrayList<>();
  volatile boolean resumes;

  ResumingSseClient(Position start) {
    this.start = start;
  }

  /** Every message id received, over all connections, in order. */
  List<String> ids() {
    List<String> ids = new ArrayList<>();
    for (SseClientForTests connection : connections) {
      connection.messages().forEach(frame -> ids.add(frame.id()));
    }
    return ids;
  }

  /** Connects again with the last id received if the server ended the last connection. */
  synchronized void resumeIfDropped(String url) {
    SseClientForTests last = connections.get(connections.size() - 1);
    if (!last.droppedByServer()) {
      return;
    }
    List<String> ids = ids();
    String lastId =
        ids.isEmpty() ? (start == null ? null : start.toString()) : ids.get(ids.size() - 1);
    connections.set(connections.size() - 1, SseClientForTests.frozen(last.messages()));
    connections.add(new SseClientForTests(url, lastId));
  }

  /** Waits until {@code count} ids have arrived, connecting again whenever the server drops it. */
  void awaitIds(String url, int count, Duration timeout) {
    RunningService.await(
        "a client to receive " + count + " events",
        timeout,
        () -> {
          resumeIfDropped(url);
          return ids().size() >= count;
        });
  }

  void close() {
    connections.forEach(SseClientForTests::close);
  }
}
