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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * EventSource-style clients in a process of their own: {@code SseLoadGenerator <url> <clients>
 * [threads]}. A few selector threads (default: one per core) share the connections (no thread per
 * client, so the generator stays small beside the service on the same cores); each client's {@link
 * SseReceiver} undoes chunked encoding and notes, for each {@code data:} line, the number {@code
 * "n":<i>} it carries and the wall-clock time of its receipt. Several threads, and a parser that
 * looks at each byte about once, so that the numbers measure the server (ours or nchan, which get
 * the same generator), not the generator.
 *
 * <p>Protocol on stdin/stdout with the benchmark: prints {@code CONNECTED <k>} once every client
 * has had its {@code 200} response headers; then reads {@code APPENDED <count>} followed by one
 * line per event: the epoch microseconds at which its append (or publish) returned; waits until
 * every delivery arrived or 30 s passed, and prints a {@code # connection trouble} line per kind
 * and reason, then {@code RESULT delivered=... expected=... p50_ms=... p99_ms=... p999_ms=...
 * reconnects=... failed_connects=... refused=...}. A client whose connection fails opens it again:
 * after its stream was open that is a reconnect with Last-Event-ID, as EventSource does; before its
 * response headers (refused or reset by a full accept queue, say) a failed connect; after an answer
 * other than {@code 200} (the connection cap's 503) a refusal.
 */
public final class SseLoadGenerator {
  private static final long MICROS_BASE = microsBase();

  private static URI target;
  private static String requestHead;
  private static int clientCount;
  private static final AtomicInteger connected = new AtomicInteger();
  private static final AtomicInteger reconnects = new AtomicInteger();
  private static final AtomicInteger failedConnects = new AtomicInteger();
  private static final AtomicInteger refused = new AtomicInteger();
  private static final Map<String, AtomicInteger> troubles = new ConcurrentSkipListMap<>();

  /** One connection. */
  private static final class Client {
    final SseReceiver receiver;
    SocketChannel channel;
    ByteBuffer request;
    boolean streaming; // this connection had its 200 headers
    boolean everConnected;

    Client(SseReceiver.Deliveries deliveries) {
      receiver = new SseReceiver(deliveries);
    }
  }

  /** One selector thread, its clients and what they received (read by main once it is done). */
  private static final class Loop implements SseReceiver.Deliveries {
    final Selector selector;
    private int[] deliveredN = new int[1 << 16];
    private long[] deliveredAt = new long[1 << 16];
    private volatile int delivered; // written by this loop's thread only

    Loop() throws IOException {
      selector = Selector.open();
    }

    @Override
    public void delivered(int n, long atMicros) {
      int count = delivered;
      if (count == deliveredN.length) {
        deliveredN = Arrays.copyOf(deliveredN, count * 2);
        deliveredAt = Arrays.copyOf(deliveredAt, count * 2);
      }
      deliveredN[count] = n;
      deliveredAt[count] = atMicros;
      delivered = count + 1; // volatile: publishes the entry
    }

    synchronized int[] ns() {
      return Arrays.copyOf(deliveredN, delivered);
    }

    synchronized long[] ats() {
      return Arrays.copyOf(deliveredAt, delivered);
    }

    void run() {
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
                  reopen(key, client, "closed by the server");
                  continue;
                }
                buffer.flip();
                buffer.get(bytes, 0, read);
                boolean headersEnded;
                synchronized (this) { // the arrays may grow; main copies them under this lock
                  headersEnded = client.receiver.feed(bytes, read, epochMicros());
                }
                if (headersEnded) {
                  answered(key, client);
                }
              }
            } catch (IOException e) {
              reopen(key, client, e.toString());
            }
          }
          selector.selectedKeys().clear();
        }
      } catch (IOException e) {
        System.err.println("selector failed: " + e);
      }
    }
  }

  /**
   * Opens (or, after the server closed it, reopens with Last-Event-ID, as EventSource does) a
   * client's connection.
   */
  private static void connect(Selector selector, Client client) throws IOException {
    String lastEventId = client.receiver.lastEventId();
    String request =
        requestHead
            + (lastEventId == null ? "" : "Last-Event-ID: " + lastEventId + "\r\n")
            + "\r\n";
    client.request = ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII));
    client.receiver.reset();
    client.streaming = false;
    client.channel = SocketChannel.open();
    client.channel.configureBlocking(false);
    client.channel.connect(new InetSocketAddress("127.0.0.1", target.getPort()));
    client.channel.register(selector, SelectionKey.OP_CONNECT, client);
  }

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
    clientCount = Integer.parseInt(args[1]);
    int threads =
        args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
    target = url;
    requestHead =
        "GET "
            + url.getRawPath()
            + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery())
            + " HTTP/1.1\r\nHost: 127.0.0.1:"
            + url.getPort()
            + "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n";
    List<Loop> loops = new ArrayList<>();
    for (int t = 0; t < Math.max(1, Math.min(threads, clientCount)); t++) {
      loops.add(new Loop());
    }
    for (int i = 0; i < clientCount; i++) {
      Loop loop = loops.get(i % loops.size());
      connect(loop.selector, new Client(loop));
    }
    for (int t = 0; t < loops.size(); t++) {
      Thread network = new Thread(loops.get(t)::run, "sse-load-selector-" + t);
      network.setDaemon(true);
      network.start();
    }

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
    long expected = (long) events * clientCount;
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (delivered(loops) < expected && System.nanoTime() < deadline) {
      Thread.sleep(20); // pacing the check; the deadline bounds it
    }
    double[] millis = new double[(int) Math.min(Integer.MAX_VALUE - 8, delivered(loops) + 1024)];
    int usable = 0;
    for (Loop loop : loops) {
      int[] ns = loop.ns();
      long[] ats = loop.ats();
      for (int i = 0; i < ns.length && usable < millis.length; i++) {
        if (ns[i] >= 0 && ns[i] < events) {
          millis[usable++] = Math.max(0, ats[i] - appendedAt[ns[i]]) / 1_000.0;
        }
      }
    }
    millis = Arrays.copyOf(millis, usable);
    System.out.println(timeline(loops, appendedAt));
    troubles.forEach(
        (why, count) -> System.out.println("# connection trouble: " + why + " x" + count));
    Arrays.sort(millis);
    System.out.printf(
        Locale.ROOT,
        "RESULT delivered=%d expected=%d p50_ms=%.1f p99_ms=%.1f p999_ms=%.1f reconnects=%d"
            + " failed_connects=%d refused=%d%n",
        usable,
        expected,
        percentile(millis, 0.5),
        percentile(millis, 0.99),
        percentile(millis, 0.999),
        reconnects.get(),
        failedConnects.get(),
        refused.get());
    System.out.flush();
    System.exit(0);
  }

  /**
   * The worst delivery of the events appended in each second of the run, in ms: one stall (a pause,
   * a cold start) shows as one bad second, a feed that cannot keep up as a growing series.
   */
  private static String timeline(List<Loop> loops, long[] appendedAt) {
    return timeline(
        appendedAt, loops.stream().map(Loop::ns).toList(), loops.stream().map(Loop::ats).toList());
  }

  /**
   * The same from each loop's deliveries ({@code ns[k][i]} received at {@code ats[k][i]}). The
   * appends of several writers return out of order: seconds count from the earliest.
   */
  static String timeline(long[] appendedAt, List<int[]> ns, List<long[]> ats) {
    if (appendedAt.length == 0) {
      return "# timeline: no events";
    }
    long first = Arrays.stream(appendedAt).min().getAsLong();
    long last = Arrays.stream(appendedAt).max().getAsLong();
    double[] worst = new double[(int) ((last - first) / 1_000_000) + 1];
    for (int k = 0; k < ns.size(); k++) {
      int[] n = ns.get(k);
      long[] at = ats.get(k);
      for (int i = 0; i < n.length; i++) {
        if (n[i] >= 0 && n[i] < appendedAt.length) {
          int second = (int) ((appendedAt[n[i]] - first) / 1_000_000);
          worst[second] = Math.max(worst[second], (at[i] - appendedAt[n[i]]) / 1_000.0);
        }
      }
    }
    StringBuilder line = new StringBuilder("# worst delivery per second of appends (ms):");
    for (double ms : worst) {
      line.append(String.format(Locale.ROOT, " %.0f", ms));
    }
    return line.toString();
  }

  /** A client's response headers ended: its stream is open, or it was refused. */
  private static void answered(SelectionKey key, Client client) {
    if (!client.receiver.ok()) {
      reopen(key, client, client.receiver.statusLine());
      return;
    }
    client.streaming = true;
    if (!client.everConnected) { // a reconnect's headers must not count for another client
      client.everConnected = true;
      if (connected.incrementAndGet() == clientCount) {
        System.out.println("CONNECTED " + clientCount);
        System.out.flush();
      }
    }
  }

  /** Closes a client's connection and opens it again, counting why (see the class comment). */
  private static void reopen(SelectionKey key, Client client, String reason) {
    key.cancel();
    String kind;
    if (client.streaming) {
      kind = "reconnect";
      reconnects.incrementAndGet();
    } else if (client.receiver.answered()) {
      kind = "refused";
      refused.incrementAndGet();
    } else {
      kind = "failed connect";
      failedConnects.incrementAndGet();
    }
    troubles.computeIfAbsent(kind + ": " + reason, k -> new AtomicInteger()).incrementAndGet();
    try {
      client.channel.close();
      connect(key.selector(), client);
    } catch (IOException e) {
      System.err.println("reconnect failed: " + e);
    }
  }

  private static long delivered(List<Loop> loops) {
    long sum = 0;
    for (Loop loop : loops) {
      sum += loop.delivered;
    }
    return sum;
  }

  private static double percentile(double[] sorted, double p) {
    return sorted.length == 0
        ? Double.NaN
        : sorted[(int) Math.min(sorted.length - 1, p * sorted.length)];
  }
}
