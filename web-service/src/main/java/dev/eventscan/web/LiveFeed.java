package dev.eventscan.web;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tails the global log once for the whole service and hands each new event to every connected live
 * client. Woken by the store's notifications, with polling as a fallback.
 */
final class LiveFeed implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LiveFeed.class);
  private static final int PAGE = 500;
  private static final int WAIT_MILLIS = 250;

  /** Someone who wants live events: must never block (queue and return). */
  interface Listener {
    void offer(RecordedEvent event);
  }

  private final EventStore store;
  private final Set<Listener> listeners = ConcurrentHashMap.newKeySet();
  private final Set<Listener> observers = ConcurrentHashMap.newKeySet();
  private final Map<Position, String> rendered = new ConcurrentHashMap<>();
  private final Thread thread;
  private volatile boolean closed;
  private volatile Position cursor;

  LiveFeed(EventStore store) {
    this.store = store;
    this.cursor = store.headPosition();
    this.thread = new Thread(this::run, "live-feed");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Registers a listener; returns the position after which it will see every event. */
  Position register(Listener listener) {
    listeners.add(listener);
    return cursor;
  }

  /** Sees every event too, but is not a client (metrics). */
  void observe(Listener observer) {
    observers.add(observer);
  }

  void unregister(Listener listener) {
    listeners.remove(listener);
  }

  boolean closed() {
    return closed;
  }

  int listeners() {
    return listeners.size();
  }

  /** The event's public JSON, serialized once however many clients receive it. */
  String json(RecordedEvent event) {
    if (rendered.size() > 4_096) {
      rendered.clear();
    }
    return rendered.computeIfAbsent(event.position(), p -> Json.write(Json.event(event)));
  }

  private void run() {
    while (!closed) {
      try (Connection control = store.dataSource().getConnection()) {
        control.setAutoCommit(true);
        try (Statement listen = control.createStatement()) {
          listen.execute("LISTEN " + store.notificationChannel());
        }
        while (!closed) {
          GlobalLogPage page = store.readAll(cursor, PAGE);
          for (RecordedEvent event : page.events()) {
            observers.forEach(observer -> observer.offer(event));
            listeners.forEach(listener -> listener.offer(event));
            cursor = event.position();
          }
          if (page.endOfLog()) {
            control.unwrap(PGConnection.class).getNotifications(WAIT_MILLIS);
          }
        }
      } catch (Exception e) {
        if (!closed) {
          log.warn("Live feed lost its connection; reconnecting: {}", e.toString());
          sleepQuietly();
        }
      }
    }
  }

  private static void sleepQuietly() {
    try {
      Thread.sleep(500);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      thread.join(2 * WAIT_MILLIS + 1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
