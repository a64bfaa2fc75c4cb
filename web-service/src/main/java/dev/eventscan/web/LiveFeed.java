package dev.eventscan.web;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.live.LiveListener;
import dev.eventscan.eventstore.live.LiveSubscription;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The service's one live subscription to the whole log (the library's {@link
 * dev.eventscan.eventstore.live.LiveEvents}), fanned out to every connected live client. Listeners
 * register under the same lock that hands out events, so each learns exactly the position after
 * which it sees every event.
 */
final class LiveFeed implements AutoCloseable {
  /** Someone who wants live events: must never block (queue and return). */
  interface Listener {
    void offer(RecordedEvent event);
  }

  private final Set<Listener> listeners = ConcurrentHashMap.newKeySet();
  private final Set<Listener> observers = ConcurrentHashMap.newKeySet();
  private final LiveSubscription subscription;
  private volatile boolean closed;
  private Position cursor;

  LiveFeed(EventStore store) {
    this.subscription =
        store
            .live()
            .subscribeFromNow(
                EventFilter.all(),
                new LiveListener() {
                  @Override
                  public void onEvent(RecordedEvent event) {
                    dispatch(event);
                  }

                  @Override
                  public void onClosed() {
                    closed = true;
                  }
                });
    synchronized (this) {
      this.cursor = subscription.position();
    }
  }

  /** Registers a listener; returns the position after which it will see every event. */
  synchronized Position register(Listener listener) {
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

  private synchronized void dispatch(RecordedEvent event) {
    observers.forEach(observer -> observer.offer(event));
    listeners.forEach(listener -> listener.offer(event));
    cursor = event.position();
  }

  @Override
  public void close() {
    closed = true;
    subscription.close();
  }
}
