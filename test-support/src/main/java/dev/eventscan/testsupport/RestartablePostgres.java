package dev.eventscan.testsupport;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * An embedded PostgreSQL of a test's own, on a fixed port and data directory, with the soak tests'
 * nemesis: it can terminate client backends, hold a transaction id open, and be shut down the way
 * operators and crashes do it (fast: SIGINT; immediate: SIGQUIT, which skips the checkpoint and
 * recovers from WAL at the next start) and started again. Commits are synchronous: an acknowledged
 * append must survive an immediate shutdown.
 */
public final class RestartablePostgres implements AutoCloseable {
  private final Path dataDirectory;
  private final int port;
  private EmbeddedPostgres server;

  public RestartablePostgres(Path dataDirectory) throws IOException {
    this.dataDirectory = dataDirectory;
    try (ServerSocket free = new ServerSocket(0)) {
      this.port = free.getLocalPort();
    }
    start();
  }

  /** The {@code postgres} database, user {@code postgres}, no password. */
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
  }

  /**
   * Stops the postmaster with a signal, lets zonky release the data directory (its own stop finds
   * nothing to stop and says so in the log), and starts it again on the same directory and port.
   */
  public synchronized void restart(boolean immediate) throws Exception {
    stop(immediate);
    server.close();
    start();
  }

  /** Terminates between one and {@code atMost} randomly chosen client backends. */
  public void terminateBackends(Random random, int atMost) throws SQLException {
    try (Connection admin = connect();
        Statement select = admin.createStatement();
        ResultSet rows =
            select.executeQuery(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    + " AND pid <> pg_backend_pid() AND backend_type = 'client backend'")) {
      List<Integer> pids = new ArrayList<>();
      while (rows.next()) {
        pids.add(rows.getInt(1));
      }
      Collections.shuffle(pids, random);
      for (int pid : pids.subList(0, Math.min(pids.size(), 1 + random.nextInt(atMost)))) {
        try (PreparedStatement kill = admin.prepareStatement("SELECT pg_terminate_backend(?)")) {
          kill.setInt(1, pid);
          kill.executeQuery().close();
        }
      }
    }
  }

  /** What a held transaction does after taking its id, e.g. insert a row that commits late. */
  @FunctionalInterface
  public interface TransactionWork {
    void run(Connection transaction) throws SQLException;
  }

  /**
   * Takes a transaction id, runs {@code work} in that transaction, keeps it open for {@code open}
   * and commits: global readers are held back meanwhile (the barrier), and must lose nothing.
   */
  public void holdTransactionId(Duration open, TransactionWork work)
      throws SQLException, InterruptedException {
    try (Connection holder = connect()) {
      holder.setAutoCommit(false);
      try (Statement s = holder.createStatement()) {
        s.execute("SELECT pg_current_xact_id()");
      }
      work.run(holder);
      Thread.sleep(open.toMillis());
      holder.commit();
    }
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), "postgres", null);
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
  public synchronized void close() throws IOException {
    server.close();
  }
}
