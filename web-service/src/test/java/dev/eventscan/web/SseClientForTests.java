package dev.eventscan.web;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/** A minimal server-sent-events reader over java.net.http, collecting (id, event, data) frames. */
final class SseClientForTests implements AutoCloseable {
  record Frame(String id, String event, String data) {}

  final List<Frame> frames = new CopyOnWriteArrayList<>();
  private final CompletableFuture<HttpResponse<Stream<String>>> response;
  volatile int status;
  private volatile boolean ended;
  private volatile boolean closed;

  SseClientForTests(String url, String lastEventId) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream").GET();
    if (lastEventId != null) {
      request.header("Last-Event-ID", lastEventId);
    }
    response = RunningService.HTTP.sendAsync(request.build(), HttpResponse.BodyHandlers.ofLines());
    response.whenComplete(
        (r, failure) -> {
          if (failure != null) {
            ended = true;
          }
        });
    response.thenAccept(
        r -> {
          status = r.statusCode();
          Thread reader = new Thread(() -> read(r.body()), "sse-test-reader");
          reader.setDaemon(true);
          reader.start();
        });
  }

  private SseClientForTests(List<Frame> frames) {
    this.frames.addAll(frames);
    this.response = CompletableFuture.completedFuture(null);
    this.status = 200;
  }

  /** A closed client that keeps exactly {@code frames}. */
  static SseClientForTests frozen(List<Frame> frames) {
    return new SseClientForTests(frames);
  }

  private void read(Stream<String> lines) {
    String[] id = {null};
    String[] event = {null};
    StringBuilder data = new StringBuilder();
    try {
      lines.forEach(
          line -> {
            if (line.isEmpty()) {
              if (data.length() > 0) {
                frames.add(new Frame(id[0], event[0], data.toString()));
              }
              id[0] = null;
              event[0] = null;
              data.setLength(0);
            } else if (line.startsWith("id:")) {
              id[0] = line.substring(3).strip();
            } else if (line.startsWith("event:")) {
              event[0] = line.substring(6).strip();
            } else if (line.startsWith("data:")) {
              data.append(line.substring(5).strip());
            }
          });
    } catch (RuntimeException e) {
      // the connection was closed
    } finally {
      ended = true;
    }
  }

  /** The stream ended without this client closing it: the server let it go. */
  boolean droppedByServer() {
    return ended && !closed;
  }

  List<Frame> messages() {
    List<Frame> messages = new ArrayList<>();
    for (Frame frame : frames) {
      if (frame.event() == null || frame.event().equals("message")) {
        messages.add(frame);
      }
    }
    return messages;
  }

  void awaitMessages(int count, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (messages().size() < count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "got " + messages().size() + " of " + count + " events: " + frames);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    response.thenAccept(
        r -> {
          if (r != null) {
            r.body().close();
          }
        });
    response.cancel(true);
  }
}
