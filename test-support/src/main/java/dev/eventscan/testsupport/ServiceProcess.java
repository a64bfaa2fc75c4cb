package dev.eventscan.testsupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A service node as a real child JVM (the caller's own class path, so the same classes the jar
 * holds), configured by environment variables, its output in a log file. {@code PORT=0} unless
 * given: the port is read from the start-up line. Used by the cluster test and the cluster
 * benchmark.
 */
public final class ServiceProcess implements AutoCloseable {
  private static final Pattern RUNNING_AT =
      Pattern.compile("eventscan is running at (http://\\S+?)/?$", Pattern.MULTILINE);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final Process process;
  private final Path log;
  private final String url;

  private ServiceProcess(Process process, Path log, String url) {
    this.process = process;
    this.log = log;
    this.url = url;
  }

  /** Starts {@code mainClass} as a node and waits until it answers {@code /ready} with 200. */
  public static ServiceProcess start(
      Path logDirectory, String name, String mainClass, Map<String, String> env) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // Small heaps and the serial collector: several nodes share this machine's cores.
    ProcessBuilder builder =
        new ProcessBuilder(
            List.of(
                java,
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                mainClass));
    builder.environment().remove("DATABASE_URL");
    builder.environment().remove("API_TOKEN");
    builder.environment().put("PORT", "0");
    builder.environment().putAll(env);
    Path log = logDirectory.resolve(name + "-" + System.nanoTime() + ".log");
    builder.redirectErrorStream(true);
    builder.redirectOutput(log.toFile());
    Process process = builder.start();
    ServiceProcess node = new ServiceProcess(process, log, awaitUrl(process, log));
    node.awaitReady();
    return node;
  }

  private static String awaitUrl(Process process, Path log) throws Exception {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      Matcher running = RUNNING_AT.matcher(Files.readString(log));
      if (running.find()) {
        return running.group(1);
      }
      if (!process.isAlive()) {
        throw new AssertionError("service exited with " + process.exitValue() + ":\n" + tail(log));
      }
      Thread.sleep(100);
    }
    process.destroyForcibly();
    throw new AssertionError("service did not start within " + START_TIMEOUT + ":\n" + tail(log));
  }

  private void awaitReady() throws InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!ready()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("service at " + url + " not ready:\n" + tail(log));
      }
      Thread.sleep(50);
    }
  }

  private boolean ready() throws InterruptedException {
    try {
      return HTTP.send(
                  HttpRequest.newBuilder(URI.create(url + "/ready")).build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (IOException e) {
      return false;
    }
  }

  public String url() {
    return url;
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: no shutdown hook runs, connections drop as the kernel closes the sockets. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** The last lines of the node's log, for failure messages. */
  public String logTail() {
    return tail(log);
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  /** SIGTERM (a graceful stop), then SIGKILL if it takes over a minute. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      kill();
    }
  }
}
