package dev.eventscan.eventstore.live;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.InvalidInputException;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.internal.AppendSignal;
import dev.eventscan.eventstore.internal.LogHeadReader;
import dev.eventscan.eventstore.internal.PostgresEventStore;
import dev.eventscan.eventstore.internal.SharedHeadReads;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live, non-durable subscriptions: "every event after position P that matches this filter, as it is
 * committed", for server-sent events, dashboards and caches. One thread tails the global log for
 * every subscriber (woken by the store's appends, polling as a fallback, and looking again within
 * milliseconds while committed events wait behind an older running transaction) and hands each
 * read's matching events to each listener in one call. Nothing is checkpointed: a subscriber that
 * goes away resumes by subscribing again from the last position it saw. Get it from {@link
 * EventStore#live()}; it starts its thread with the first subscription and stops it on {@link
 * #close()}.
 *
 * <p>Subscribing is race-free: the subscription is registered with the tailer first, collecting
 * what the tailer hands out meanwhile; then it catches up from the store up to where the tailer
 * was; then it receives what it collected and goes live. Each event after {@code after} arrives
 * exactly once, in global order.
 */
public final class LiveEvents implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LiveEvents.class);
  private static final int PAGE = 500;

  /**
   * While committed events wait behind the barrier, the tailer looks again after 1 ms, then 2, 4,
   * 8: a held-back event is seen within about the time its blocker took, at a few index probes.
   */
  private static final long FIRST_RECHECK_MILLIS = 1;

  private static final long LAST_RECHECK_MILLIS = 8;

  /** Events a subscriber may receive from the tailer while it is still catching up. */
  private static final int MAX_PENDING_DURING_CATCH_UP = 100_000;

  private final EventStore store;
  private final Duration pollInterval;
  private final AppendSignal appends;
  private final Object lock = new Object();
  private final Set<Registration> registrations = ConcurrentHashMap.newKeySet();
  private Thread tailer;
  private Position cursor;
  private volatile boolean closed;
  private volatile long reads; // the tailer's completed reads, for tests

  /** Use {@link EventStore#live()}: one instance per store. */
  public LiveEvents(EventStore store, Duration pollInterval) {
    this.store = Objects.requireNonNull(store, "store");
    this.pollInterval = Objects.requireNonNull(pollInterval, "pollInterval");
    this.appends =
        store instanceof PostgresEventStore postgres
            ? postgres.appendSignal()
            : new AppendSignal(store.dataSource(), store.notificationChannel());
  }

  /**
   * Every event after {@code after} that matches {@code filter}: first those already in the store
   * (read on the calling thread, before this returns), then live ones on the tailer's thread.
   */
  public LiveSubscription subscribe(Position after, EventFilter filter, LiveListener listener) {
    if (after == null || filter == null || listener == null) {
      throw new InvalidInputException("subscribe needs a position, a filter and a listener");
    }
    Registration registration = new Registration(filter, listener, after);
    Position tailerAt;
    synchronized (lock) {
      requireOpen();
      startTailer();
      tailerAt = cursor;
      registrations.add(registration);
    }
    try {
      registration.catchUp(tailerAt);
    } catch (RuntimeException e) {
      registration.close();
      throw e;
    }
    return registration;
  }

  /** Every matching event committed from now on. */
  public LiveSubscription subscribeFromNow(EventFilter filter, LiveListener listener) {
    synchronized (lock) {
      requireOpen();
      startTailer();
      return subscribe(cursor, filter, listener);
    }
  }

  /** How many reads the tailer has completed (tests wait for one to follow a commit). */
  long reads() {
    return reads;
  }

  /** How many subscriptions are open. */
  public int subscribers() {
    return registrations.size();
  }

  /** Stops the tailer and waits for it; open subscriptions are told through onClosed. */
  @Override
  public void close() {
    Thread running;
    synchronized (lock) {
      closed = true;
      running = tailer;
    }
    if (running != null) {
      running.interrupt(); // ends its wait for appends
      try {
        running.join(pollInterval.toMillis() + 5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (Registration registration : List.copyOf(registrations)) {
      registration.end();
    }
    if (!(store instanceof PostgresEventStore)) {
      appends.close(); // its own, not the store's
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("the live feed is closed");
    }
  }

  private void startTailer() {
    if (tailer == null) {
      cursor = store.headPosition();
      tailer = new Thread(this::tail, "event-store-live-" + store.schema());
      tailer.setDaemon(true);
      tailer.start();
    }
  }

  private void tail() {
    // The store's subscriptions that have caught up read the same head: one read serves all.
    SharedHeadReads headReads =
        store instanceof PostgresEventStore postgres
            ? postgres.headReads()
            : new SharedHeadReads(new LogHeadReader(store.dataSource(), store.schema()));
    long recheckMillis = FIRST_RECHECK_MILLIS;
    while (!closed) {
      try {
        long appendMark = appends.mark(); // before the read: a commit after it ends the wait
        long releaseMark = appends.releaseMark();
        SharedHeadReads.HeadPage read = headReads.readAll(currentCursor(), EventFilter.all(), PAGE);
        GlobalLogPage page = read.page();
        reads++;
        List<RecordedEvent> events = page.events();
        if (!events.isEmpty()) {
          synchronized (lock) {
            registrations.forEach(registration -> registration.offer(events));
            cursor = events.get(events.size() - 1).position();
          }
          // Read again at once, and wait only when a read finds nothing: at high rates the
          // feed then clocks itself instead of waiting for each wake-up.
          recheckMillis = FIRST_RECHECK_MILLIS;
        } else if (read.heldBack()) {
          // An older transaction still runs. If it is this store's, its end wakes us; another
          // process's sends no hint: look again soon.
          appends.awaitHeldBack(appendMark, releaseMark, Duration.ofMillis(recheckMillis));
          recheckMillis = Math.min(2 * recheckMillis, LAST_RECHECK_MILLIS);
        } else {
          recheckMillis = FIRST_RECHECK_MILLIS;
          appends.await(appendMark, pollInterval);
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        if (!closed) {
          log.warn("Live feed could not read the log; retrying: {}", e.toString());
          try {
            Thread.sleep(pollInterval.toMillis());
          } catch (InterruptedException stop) {
            return;
          }
        }
      }
    }
  }

  private Position currentCursor() {
    synchronized (lock) {
      return cursor;
    }
  }

  /** One subscriber: collects while catching up, then receives directly. */
  private final class Registration implements LiveSubscription {
    private final EventFilter filter;
    private final LiveListener listener;
    private final List<RecordedEvent> pending = new ArrayList<>();
    private boolean catchingUp = true;
    private volatile Position position;
    private volatile boolean ended;

    Registration(EventFilter filter, LiveListener listener, Position after) {
      this.filter = filter;
      this.listener = listener;
      this.position = after;
    }

    /** On the tailer's thread, under the feed's lock: one read's events. */
    void offer(List<RecordedEvent> events) {
      if (catchingUp) {
        for (RecordedEvent event : events) {
          if (filter.matches(event)) {
            pending.add(event);
          }
        }
        if (pending.size() > MAX_PENDING_DURING_CATCH_UP) {
          end();
        }
        return;
      }
      deliver(events);
    }

    /** Reads from the store up to where the tailer was at registration, then drains. */
    void catchUp(Position tailerAt) {
      Position read = position;
      while (read.compareTo(tailerAt) < 0 && !ended) {
        GlobalLogPage page = store.readAll(read, filter, PAGE);
        List<RecordedEvent> events = page.events();
        int upToTailer = events.size();
        while (upToTailer > 0 && events.get(upToTailer - 1).position().compareTo(tailerAt) > 0) {
          upToTailer--; // the tailer collected those for us
        }
        deliver(events.subList(0, upToTailer));
        if (page.endOfLog() || events.isEmpty()) {
          break;
        }
        read = page.next();
      }
      synchronized (lock) {
        if (position.compareTo(tailerAt) < 0) {
          position = tailerAt; // everything up to there matching the filter has been delivered
        }
        deliver(pending);
        pending.clear();
        catchingUp = false;
      }
    }

    /**
     * Hands the listener, in one call, those of {@code events} (in order) that are after what it
     * has seen and match its filter; it has seen the log up to the last of them.
     */
    private void deliver(List<RecordedEvent> events) {
      if (ended || events.isEmpty()) {
        return;
      }
      List<RecordedEvent> matching = new ArrayList<>(events.size());
      Position seen = position;
      for (RecordedEvent event : events) {
        if (event.position().compareTo(seen) > 0) {
          seen = event.position();
          if (filter.matches(event)) {
            matching.add(event);
          }
        }
      }
      position = seen;
      if (matching.isEmpty()) {
        return;
      }
      try {
        listener.onEvents(matching);
      } catch (RuntimeException e) {
        log.warn("Live listener failed; ending its subscription", e);
        end();
      }
    }

    void end() {
      if (!ended) {
        ended = true;
        registrations.remove(this);
        listener.onClosed();
      }
    }

    @Override
    public Position position() {
      return position;
    }

    @Override
    public void close() {
      ended = true;
      registrations.remove(this);
    }
  }
}
