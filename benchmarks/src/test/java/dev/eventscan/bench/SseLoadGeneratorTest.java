package dev.eventscan.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The load generator: its per-second timeline, and how it counts connections that fail. */
class SseLoadGeneratorTest {
  /**
   * A connection closed before its answer (as a full accept queue may do) is a failed connect, a
   * 503 a refusal, and only a stream that was open and ended a reconnect: the first version counted
   * all three as reconnects, so a run's "113 reconnects" could not say which it was.
   */
  @Test
  void a_connection_lost_before_its_answer_is_a_failed_connect_and_a_503_a_refusal()
      throws Exception {
    List<Socket> open = new ArrayList<>();
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread answers =
          new Thread(
              () -> {
                try {
                  answer(server.accept(), null); // closed before any answer
                  answer(
                      server.accept(),
                      "HTTP/1.1 503 Service Unavailable\r\n" + "Content-Length: 0\r\n\r\n");
                  answer(server.accept(), "HTTP/1.1 200 OK\r\n\r\n"); // open, then ended
                  Socket last = server.accept();
                  open.add(last);
                  OutputStream out = last.getOutputStream();
                  readRequest(last);
                  out.write(
                      "HTTP/1.1 200 OK\r\n\r\nid: 1\ndata: {\"n\":0}\n\n"
                          .getBytes(StandardCharsets.US_ASCII));
                  out.flush();
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      answers.start();
      Process generator =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  SseLoadGenerator.class.getName(),
                  "http://127.0.0.1:" + server.getLocalPort() + "/sub",
                  "1")
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      try {
        BufferedReader out =
            new BufferedReader(
                new InputStreamReader(generator.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("CONNECTED 1");
        answers.join(10_000);
        PrintWriter in = new PrintWriter(generator.getOutputStream(), true, StandardCharsets.UTF_8);
        in.println("APPENDED 1");
        in.println(SseLoadGenerator.epochMicros());
        String result = null;
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          if (line.startsWith("RESULT")) {
            result = line;
            break;
          }
        }
        assertThat(result)
            .contains("delivered=1 expected=1")
            .contains("reconnects=1 failed_connects=1 refused=1");
      } finally {
        generator.destroy();
        generator.waitFor(10, TimeUnit.SECONDS);
        for (Socket socket : open) {
          socket.close();
        }
      }
    }
  }

  /** Reads a request's headers, sends {@code response} (none if null) and closes. */
  private static void answer(Socket socket, String response) throws IOException {
    try (socket) {
      readRequest(socket);
      if (response != null) {
        socket.getOutputStream().write(response.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
      }
    }
  }

  private static void readRequest(Socket socket) throws IOException {
    BufferedReader request =
        new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
    for (String line = request.readLine(); line != null && !line.isEmpty(); ) {
      line = request.readLine();
    }
  }

  /**
   * Eight writers return their appends out of order, so the last append is not the latest: the
   * first version sized the timeline by the last one and failed (a negative size, or an index out
   * of bounds).
   */
  @Test
  void appends_returning_out_of_order_are_binned_by_the_second_they_returned_in() {
    long start = 1_000_000_000L;
    long[] appendedAt = {start + 2_500_000, start, start + 1_200_000, start + 100_000};
    int[] ns = {0, 1, 2, 3, 1};
    long[] ats = {
      appendedAt[0] + 7_000,
      appendedAt[1] + 3_000,
      appendedAt[2] + 40_000,
      appendedAt[3] + 9_000,
      appendedAt[1] + 5_000
    };

    String line = SseLoadGenerator.timeline(appendedAt, List.of(ns), List.of(ats));

    assertThat(line).isEqualTo("# worst delivery per second of appends (ms): 9 40 7");
  }

  @Test
  void deliveries_of_events_not_measured_are_left_out() {
    long[] appendedAt = {5_000_000L};
    String line =
        SseLoadGenerator.timeline(
            appendedAt,
            List.of(new int[] {-1, 0, 3}),
            List.of(new long[] {9_999_999L, 5_002_000L, 9_999_999L}));
    assertThat(line).isEqualTo("# worst delivery per second of appends (ms): 2");
  }
}
