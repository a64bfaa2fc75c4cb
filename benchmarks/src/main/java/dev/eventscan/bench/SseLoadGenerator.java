package dev.eventscan.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;

/**
 * EventSource-style clients in a process of their own: {@code SseLoadGenerator <url> <clients>}.
 * One selector thread holds every connection (no thread per client, so the generator stays small
 * beside the service on the same cores), undoes chunked encoding, and notes for each {@code data:}
 * line the number {@code "n":<i>} it carries and the wall-clock time of its receipt.
 *
 * <p>Protocol on stdin/stdout with the benchmark: prints {@code CONNECTED <k>} once every client
 * has its response headers (a client the server closes reconnects with Last-Event-ID, as
 * EventSource does, and is counted); then reads {@code APPENDED <count>} followed by one line per
 * event: the epoch microseconds at which its append (or publish) returned; waits until every
 * delivery arrived or 30 s passed, and prints {@code RESULT delivered=... expected=... p50_ms=...
 * p99_ms=... p999_ms=...}.
 */
public final class SseLoadGenerator {
  private static final long MICROS_BASE = microsBase();

  /** One connection's parser state. */
  private static final class Client {
    SocketChannel channel;
    ByteBuffer request;
    String lastEventId;
    boolean headersDone;
    boolean chunked;
    long chunkLeft = -1; // -1: reading a chunk-size line
    boolean skipCrLf;
    final StringBuilder headerOrSize = new StringBuilder();
    byte[] line = new byte[512];
    int lineLength;
  }

  /**
   * Opens (or, after the server closed it, reopens with Last-Event-ID, as EventSource does) a
   * client's connection.
   */
  private static void connect(Selector selector, Client client) throws IOException {
    String request =
        requestHead
            + (client.lastEventId == null ? "" : "Last-Event-ID: " + client.lastEventId + "\r\n")
            + "\r\n";
    client.request = ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII));
    client.headersDone = false;
    client.chunked = false;
    client.chunkLeft = -1;
    client.headerOrSize.setLength(0);
    client.lineLength = 0;
    client.channel = SocketChannel.open();
    client.channel.configureBlocking(false);
    client.channel.connect(new InetSocketAddress("127.0.0.1", target.getPort()));
    client.channel.register(selector, SelectionKey.OP_CONNECT, client);
  }

  private static int[] deliveredN = new int[1 << 16];
  private static long[] deliveredAt = new long[1 << 16];
  private static int delivered;
  private static int connected;
  private static int reconnects;
  private static URI target;
  private static String requestHead;

  private SseLoadGenerator() {}

  private static long microsBase() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000 - System.nanoTime() / 1_000;
  }

  /**
   * Wall-clock microseconds, read cheaply: both processes use this, so their readings compare (the
   * same machine's clock, each anchored once at start).
   */
  static long epochMicros() {
    return MICROS_BASE + System.nanoTime() / 1_000;
  }

  public static void main(String[] args) throws Exception {
    URI url = URI.create(args[0]);
    int clients = Integer.parseInt(args[1]);
    target = url;
    requestHead =
        "GET "
            + url.getRawPath()
            + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery())
            + " HTTP/1.1\r\nHost: 127.0.0.1:"
            + url.getPort()
            + "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n";
    Selector selector = Selector.open();
    for (int i = 0; i < clients; i++) {
      connect(selector, new Client());
    }
    Thread network = new Thread(() -> loop(selector, clients), "sse-load-selector");
    network.setDaemon(true);
    network.start();

    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String command = in.readLine();
    if (command == null || !command.startsWith("APPENDED ")) {
      return;
    }
    int events = Integer.parseInt(command.substring(9).strip());
    long[] appendedAt = new long[events];
    for (int i = 0; i < events; i++) {
      appendedAt[i] = Long.parseLong(in.readLine().strip());
    }
    long expected = (long) events * clients;
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (deliveredCount() < expected && System.nanoTime() < deadline) {
      Thread.sleep(20); // pacing the check; the deadline bounds it
    }
    int[] ns;
    long[] ats;
    int count;
    synchronized (SseLoadGenerator.class) {
      count = delivered;
      ns = Arrays.copyOf(deliveredN, count);
      ats = Arrays.copyOf(deliveredAt, count);
    }
    double[] millis = new double[count];
    int usable = 0;
    for (int i = 0; i < count; i++) {
      if (ns[i] >= 0 && ns[i] < events) {
        millis[usable++] = Math.max(0, ats[i] - appendedAt[ns[i]]) / 1_000.0;
      }
    }
    millis = Arrays.copyOf(millis, usable);
    Arrays.sort(millis);
    System.out.printf(
        Locale.ROOT,
        "RESULT delivered=%d expected=%d p50_ms=%.1f p99_ms=%.1f p999_ms=%.1f reconnects=%d%n",
        usable,
        expected,
        percentile(millis, 0.5),
        percentile(millis, 0.99),
        percentile(millis, 0.999),
        reconnectCount());
    System.out.flush();
    System.exit(0);
  }

  /** EventSource reconnects when the server closed its stream, and resumes with Last-Event-ID. */
  private static void reconnect(Selector selector, Client client) throws IOException {
    synchronized (SseLoadGenerator.class) {
      reconnects++;
    }
    connect(selector, client);
  }

  private static int reconnectCount() {
    synchronized (SseLoadGenerator.class) {
      return reconnects;
    }
  }

  private static synchronized int deliveredCount() {
    return delivered;
  }

  private static double percentile(double[] sorted, double p) {
    return sorted.length == 0
        ? Double.NaN
        : sorted[(int) Math.min(sorted.length - 1, p * sorted.length)];
  }

  private static void loop(Selector selector, int clients) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(256 * 1024);
    byte[] bytes = new byte[buffer.capacity()];
    try {
      while (true) {
        selector.select();
        for (SelectionKey key : selector.selectedKeys()) {
          Client client = (Client) key.attachment();
          try {
            if (key.isConnectable()) {
              client.channel.finishConnect();
              key.interestOps(SelectionKey.OP_WRITE);
            } else if (key.isWritable()) {
              client.channel.write(client.request);
              if (!client.request.hasRemaining()) {
                key.interestOps(SelectionKey.OP_READ);
              }
            } else if (key.isReadable()) {
              buffer.clear();
              int read = client.channel.read(buffer);
              if (read < 0) {
                key.cancel();
                client.channel.close();
                reconnect(selector, client);
                continue;
              }
              buffer.flip();
              buffer.get(bytes, 0, read);
              long now = epochMicros();
              if (parse(client, bytes, read, now) && ++connected == clients) {
                System.out.println("CONNECTED " + connected);
                System.out.flush();
              }
            }
          } catch (IOException e) {
            key.cancel();
            try {
              client.channel.close();
              reconnect(selector, client);
            } catch (IOException again) {
              System.err.println("reconnect failed: " + again);
            }
          }
        }
        selector.selectedKeys().clear();
      }
    } catch (IOException e) {
      System.err.println("selector failed: " + e);
    }
  }

  /** Feeds received bytes through the HTTP and SSE parsers; true when the headers just ended. */
  private static boolean parse(Client client, byte[] bytes, int length, long now) {
    boolean headersEnded = false;
    int i = 0;
    if (!client.headersDone) {
      for (; i < length && !client.headersDone; i++) {
        client.headerOrSize.append((char) bytes[i]);
        int n = client.headerOrSize.length();
        if (n >= 4 && client.headerOrSize.substring(n - 4).equals("\r\n\r\n")) {
          String headers = client.headerOrSize.toString().toLowerCase(Locale.ROOT);
          if (!headers.startsWith("http/1.1 200")) {
            System.err.println("refused: " + headers.lines().findFirst().orElse(""));
          }
          client.chunked = headers.contains("transfer-encoding: chunked");
          client.headersDone = true;
          client.headerOrSize.setLength(0);
          headersEnded = true;
        }
      }
    }
    for (; i < length; i++) {
      byte b = bytes[i];
      if (client.chunked) {
        if (client.chunkLeft < 0) {
          if (b == '\n') {
            String size = client.headerOrSize.toString().strip();
            client.headerOrSize.setLength(0);
            if (size.isEmpty()) {
              continue; // the CRLF after a chunk
            }
            int semicolon = size.indexOf(';');
            client.chunkLeft =
                Long.parseLong(semicolon < 0 ? size : size.substring(0, semicolon), 16);
            if (client.chunkLeft == 0) {
              client.chunkLeft = -1;
            }
          } else {
            client.headerOrSize.append((char) b);
          }
          continue;
        }
        if (--client.chunkLeft == 0) {
          client.chunkLeft = -1;
        }
      }
      sseByte(client, b, now);
    }
    return headersEnded;
  }

  private static void sseByte(Client client, byte b, long now) {
    if (b != '\n') {
      if (client.lineLength == client.line.length) {
        client.line = Arrays.copyOf(client.line, client.line.length * 2);
      }
      client.line[client.lineLength++] = b;
      return;
    }
    int n = numberIn(client.line, client.lineLength);
    if (n < 0 && client.lineLength > 4 && client.line[0] == 'i' && client.line[1] == 'd') {
      client.lastEventId =
          new String(client.line, 3, client.lineLength - 3, StandardCharsets.UTF_8).strip();
    }
    client.lineLength = 0;
    if (n >= 0) {
      record(n, now);
    }
  }

  /** The {@code i} of {@code "n":i} in a {@code data:} line, or -1. */
  private static int numberIn(byte[] line, int length) {
    if (length < 5 || line[0] != 'd' || line[1] != 'a' || line[2] != 't' || line[3] != 'a') {
      return -1;
    }
    for (int i = 4; i + 4 < length; i++) {
      if (line[i] == '"' && line[i + 1] == 'n' && line[i + 2] == '"' && line[i + 3] == ':') {
        int value = 0;
        int j = i + 4;
        boolean any = false;
        while (j < length && line[j] >= '0' && line[j] <= '9') {
          value = value * 10 + (line[j++] - '0');
          any = true;
        }
        return any ? value : -1;
      }
    }
    return -1;
  }

  private static synchronized void record(int n, long at) {
    if (delivered == deliveredN.length) {
      deliveredN = Arrays.copyOf(deliveredN, delivered * 2);
      deliveredAt = Arrays.copyOf(deliveredAt, delivered * 2);
    }
    deliveredN[delivered] = n;
    deliveredAt[delivered++] = at;
  }
}
