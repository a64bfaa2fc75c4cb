package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.EventStoreException;
import dev.eventscan.eventstore.jdbc.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes a store's waiting readers (subscriptions, the live feed) when events may have been
 * appended: at once for this store's own commits, and on the NOTIFY hint for other processes'
 * commits, which one connection per store LISTENs for and passes on. Each reader LISTENing on a
 * connection of its own made every append wake every reader's PostgreSQL backend, and made a reader
 * in the appending process wait for the notifier's round trip through the database.
 *
 * <p>A reader takes {@link #mark()} before it reads and, if the read found nothing, waits with
 * {@link #await}: a commit after the mark, which that read may not have seen, ends the wait at
 * once. A reader whose read found committed events held back by an older running transaction waits
 * with {@link #awaitHeldBack} instead: the end of any of this store's own transactions ({@link
 * #signalRelease}, e.g. a projection's) may have let them through, and wakes it too, while idle
 * readers sleep on.
 */
public final class AppendSignal implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AppendSignal.class);

  /**
   * A shared advisory lock each store's listening connection holds while it listens, so that
   * appenders can tell whether anyone is listening ({@link AppendNotifier}). Key: the channel.
   */
  public static final String PRESENCE_KEY =
      "('x' || substr(md5(? || '/listening'), 1, 16))::bit(64)::bigint";

  /** How long the listener blocks per wait: also how soon it notices {@link #close}. */
  private static final int LISTEN_MILLIS = 500;

  private static final Duration RELISTEN_DELAY = Duration.ofSeconds(1);

  private final DataSource dataSource;
  private final String channel;
  private final String ownPayload = UUID.randomUUID().toString();
  private final ReentrantLock monitor = new ReentrantLock();
  private final Condition appended = monitor.newCondition();
  private final Condition released = monitor.newCondition();
  private final Object starting = new Object();
  private long signals; // guarded by monitor
  private long releases; // guarded by monitor
  private volatile Thread listener; // set once, under starting
  private volatile int listenerPid; // its backend, which appenders leave out; 0 when not listening
  private volatile boolean closed;

  public AppendSignal(DataSource dataSource, String channel) {
    this.dataSource = dataSource;
    this.channel = channel;
  }

  /**
   * The payload this store's own NOTIFYs carry: its readers were woken at the commit already, so
   * the listener drops them instead of waking everyone a second time.
   */
  public String ownPayload() {
    return ownPayload;
  }

  /** The backend of this store's listening connection; 0 while it is not listening. */
  int listenerPid() {
    return listenerPid;
  }

  /** Events were appended (or may have been): wakes every waiting reader. */
  public void signal() {
    monitor.lock();
    try {
      signals++;
      appended.signalAll();
      released.signalAll();
    } finally {
      monitor.unlock();
    }
  }

  /**
   * A transaction of this store that held a transaction id has ended (committed or not): wakes the
   * readers waiting behind the barrier, which it may have been.
   */
  public void signalRelease() {
    monitor.lock();
    try {
      releases++;
      released.signalAll();
    } finally {
      monitor.unlock();
    }
  }

  /**
   * Where the signals stand, to pass to {@link #await} after a read; starts listening for other
   * processes' appends first (once per store), so none committed after the mark is missed.
   */
  public long mark() {
    if (listener == null) {
      startListening();
    }
    monitor.lock();
    try {
      return signals;
    } finally {
      monitor.unlock();
    }
  }

  /** Where the releases stand, to pass to {@link #awaitHeldBack}; taken with {@link #mark()}. */
  public long releaseMark() {
    monitor.lock();
    try {
      return releases;
    } finally {
      monitor.unlock();
    }
  }

  /** Returns once signalled after {@code mark}, or after {@code timeout}, or when closed. */
  public void await(long mark, Duration timeout) throws InterruptedException {
    await(appended, mark, -1, timeout);
  }

  /**
   * Returns once signalled after {@code mark} or released after {@code releaseMark}, or after
   * {@code timeout} (the look-again for other processes' transactions), or when closed.
   */
  public void awaitHeldBack(long mark, long releaseMark, Duration timeout)
      throws InterruptedException {
    await(released, mark, releaseMark, timeout);
  }

  private void await(Condition condition, long mark, long releaseMark, Duration timeout)
      throws InterruptedException {
    long left = timeout.toNanos();
    monitor.lock();
    try {
      while (signals == mark && (releaseMark < 0 || releases == releaseMark) && !closed) {
        if (left <= 0) {
          return;
        }
        left = condition.awaitNanos(left);
      }
    } finally {
      monitor.unlock();
    }
  }

  /** Outside {@link #monitor}: appends signal while a connection is being opened. */
  private void startListening() {
    synchronized (starting) {
      if (listener != null || closed) {
        return;
      }
      Connection connection = null;
      try {
        connection = listen(); // here, not on the thread: LISTEN is on before the caller reads
      } catch (SQLException | RuntimeException e) {
        log.debug("Not listening for appends yet; readers poll meanwhile: {}", e.toString());
      }
      Connection listening = connection;
      Thread thread = new Thread(() -> run(listening), "event-store-listener-" + channel);
      thread.setDaemon(true);
      thread.start();
      listener = thread;
    }
  }

  private Connection listen() throws SQLException {
    Connection connection = dataSource.getConnection();
    try {
      connection.setAutoCommit(true);
      try (Statement listen = connection.createStatement()) {
        listen.execute("LISTEN " + channel);
      }
      try (PreparedStatement present =
          connection.prepareStatement(
              "SELECT pg_backend_pid() FROM pg_advisory_lock_shared(" + PRESENCE_KEY + ")")) {
        present.setString(1, channel);
        try (ResultSet row = present.executeQuery()) {
          row.next();
          listenerPid = row.getInt(1);
        }
      }
      return connection;
    } catch (SQLException | RuntimeException e) {
      Jdbc.releaseSessionConnection(connection);
      throw e;
    }
  }

  private void run(Connection listening) {
    Connection connection = listening;
    while (!closed) {
      try {
        if (connection == null) {
          connection = listen();
          signal(); // hints sent while not listening are lost: readers look once
        }
        PGNotification[] hints =
            connection.unwrap(PGConnection.class).getNotifications(LISTEN_MILLIS);
        if (fromElsewhere(hints)) {
          signal();
        }
      } catch (SQLException | RuntimeException e) {
        log.debug("Listening for appends failed; readers poll meanwhile: {}", e.toString());
        listenerPid = 0;
        Jdbc.releaseSessionConnection(connection);
        connection = null;
        pause();
      }
    }
    listenerPid = 0;
    Jdbc.releaseSessionConnection(connection);
  }

  private boolean fromElsewhere(PGNotification[] hints) {
    if (hints != null) {
      for (PGNotification hint : hints) {
        if (!ownPayload.equals(hint.getParameter())) {
          return true;
        }
      }
    }
    return false;
  }

  private void pause() {
    monitor.lock();
    try {
      for (long left = RELISTEN_DELAY.toNanos(); left > 0 && !closed; ) {
        left = appended.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      monitor.unlock();
    }
  }

  /**
   * Wakes every waiter and stops listening, waiting for the listener so its connection is back in
   * the pool on return. A NOTIFY ends its blocking read (pgjdbc's ignores interrupts).
   */
  @Override
  public void close() {
    monitor.lock();
    try {
      closed = true;
      appended.signalAll();
      released.signalAll();
    } finally {
      monitor.unlock();
    }
    Thread toJoin;
    synchronized (starting) {
      toJoin = listener;
    }
    if (toJoin == null) {
      return;
    }
    wakeListener();
    try {
      toJoin.join(LISTEN_MILLIS + 5_000L);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void wakeListener() {
    try {
      Jdbc.withConnection(
          dataSource,
          "wake the append listener",
          c -> {
            try (PreparedStatement notify = c.prepareStatement("SELECT pg_notify(?, ?)")) {
              notify.setString(1, channel);
              notify.setString(2, ownPayload);
              notify.executeQuery().close();
            }
            return null;
          });
    } catch (EventStoreException e) {
      log.debug("Could not wake the append listener; it stops within {} ms", LISTEN_MILLIS);
    }
  }
}
