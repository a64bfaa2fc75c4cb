package dev.eventscan.eventstore.soak;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * An embedded PostgreSQL of the soak test's own, on a fixed port and data directory, that can be
 * shut down the way operators and crashes do it (fast: SIGINT; immediate: SIGQUIT, which skips the
 * checkpoint and recovers from WAL at the next start) and started again. Commits are synchronous:
 * an acknowledged append must survive an immediate shutdown.
 */
final class RestartablePostgres implements AutoCloseable {
  private final Path dataDirectory;
  private final int port;
  private EmbeddedPostgres server;

  RestartablePostgres(Path dataDirectory) throws IOException {
    this.dataDirectory = dataDirectory;
    try (ServerSocket free = new ServerSocket(0)) {
      this.port = free.getLocalPort();
    }
    start();
  }

  String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
  }

  /**
   * Stops the postmaster with a signal, lets zonky release the data directory (its own stop finds
   * nothing to stop and says so in the log), and starts it again on the same directory and port.
   */
  synchronized void restart(boolean immediate) throws Exception {
    stop(immediate);
    server.close();
    start();
  }

  private void stop(boolean immediate) throws Exception {
    long pid = Long.parseLong(Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0));
    new ProcessBuilder("kill", immediate ? "-QUIT" : "-INT", Long.toString(pid))
        .inheritIO()
        .start()
        .waitFor();
    var postmaster = ProcessHandle.of(pid);
    if (postmaster.isPresent()) {
      postmaster.get().onExit().get(60, TimeUnit.SECONDS);
    }
  }

  private void start() throws IOException {
    server =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDirectory)
            .setCleanDataDirectory(false)
            .setPort(port)
            .setServerConfig("max_connections", "100")
            .setServerConfig("fsync", "off") // a process crash keeps the OS cache; no OS crash here
            .setServerConfig("synchronous_commit", "on")
            .start();
  }

  @Override
  public synchronized void close() throws Exception {
    server.close();
  }
}
