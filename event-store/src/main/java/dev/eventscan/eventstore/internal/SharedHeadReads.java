package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads at the head of the global log for readers that have caught up (a process's subscriptions,
 * the segments of a partitioned one), shared: they all wake up on the same append notification, and
 * one unfiltered read serves every reader that asked while the previous read was running, each
 * getting the page its own read would have returned. One query instead of one per subscription, at
 * every append.
 *
 * <p>The shared read takes everything after the smallest position asked for; every event up to its
 * last one (or up to where it started, if it found none) is in it, so a reader's filtered slice of
 * it is exactly its own page. The same statement says whether committed events wait behind the
 * barrier, so the readers need not ask that one by one either.
 *
 * <p>A reader that finds nothing is only told so by a read that started after it asked, so it never
 * waits for an append that was committed before it asked. A reader that asked while a read ran gets
 * that read's events if it has some for it (from at or before the reader's position): that is a
 * true page of the log too, and a reader that gets events reads again at once; under load this
 * spares it waiting for one more read.
 */
public final class SharedHeadReads {
  private final LogHeadReader log;
  private final Object lock = new Object();
  private List<Request> waiting = new ArrayList<>();
  private boolean reading;
  private long reads; // for tests

  public SharedHeadReads(LogHeadReader log) {
    this.log = log;
  }

  /**
   * A reader's page, and whether committed events waited at or above the barrier when it was read
   * (an older transaction still runs, and its commit sends no notification).
   */
  public record HeadPage(GlobalLogPage page, boolean heldBack) {}

  private static final class Request {
    final Position after;
    final EventFilter filter;
    final int maxCount;
    HeadPage page;
    RuntimeException failure;
    boolean leads;

    Request(Position after, EventFilter filter, int maxCount) {
      this.after = after;
      this.filter = filter;
      this.maxCount = maxCount;
    }

    boolean answered() {
      return page != null || failure != null;
    }

    HeadPage result() {
      if (failure != null) {
        throw failure;
      }
      return page;
    }
  }

  /** What {@code readAll(after, filter, maxCount)} returns, read together with others. */
  public HeadPage readAll(Position after, EventFilter filter, int maxCount) {
    Request mine = new Request(after, filter, maxCount);
    List<Request> batch;
    boolean interrupted = false;
    synchronized (lock) {
      waiting.add(mine);
      // Wait while another read runs: it may have started before this reader asked. Then either
      // the reader that ran it has served this one (it leads the next read) or this one leads.
      while (reading && !mine.leads && !mine.answered()) {
        try {
          lock.wait();
        } catch (InterruptedException e) {
          interrupted = true; // a leader must still lead: re-raised on return
        }
      }
      if (!mine.answered()) {
        reading = true;
        batch = waiting;
        waiting = new ArrayList<>();
      } else {
        batch = List.of();
      }
    }
    if (!batch.isEmpty()) {
      Read read = null;
      try {
        read = serve(batch);
      } finally {
        Map<Request, HeadPage> offered = read == null ? Map.of() : offerToLateReaders(read);
        synchronized (lock) {
          offered.forEach((request, page) -> request.page = page);
          waiting.removeIf(Request::answered);
          reading = false;
          if (!waiting.isEmpty()) {
            waiting.get(0).leads = true;
            reading = true; // handed over: nobody else starts a read meanwhile
          }
          lock.notifyAll();
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return mine.result();
  }

  /** How many shared reads ran (tests). */
  long reads() {
    synchronized (lock) {
      return reads;
    }
  }

  /** How many readers wait for a read (tests). */
  int waitingReaders() {
    synchronized (lock) {
      return waiting.size();
    }
  }

  /** A shared read: its page, from where and for up to how many events it read. */
  private record Read(LogHeadReader.Page page, Position from, int maxCount) {}

  /** Answers the batch; returns the read, or null if it failed. */
  private Read serve(List<Request> batch) {
    Position from = batch.get(0).after;
    int maxCount = 0;
    for (Request request : batch) {
      from = request.after.compareTo(from) < 0 ? request.after : from;
      maxCount = Math.max(maxCount, request.maxCount);
    }
    List<HeadPage> pages = null;
    RuntimeException failure = null;
    Read read = null;
    try {
      LogHeadReader.Page shared = log.next(from, maxCount);
      List<HeadPage> sliced = new ArrayList<>(batch.size());
      for (Request request : batch) {
        sliced.add(new HeadPage(sliceOf(shared, from, maxCount, request), shared.heldBack()));
      }
      pages = sliced;
      read = new Read(shared, from, maxCount);
    } catch (RuntimeException e) {
      failure = e;
    } finally {
      // Every reader of the batch is answered, whatever happened: they wait for nothing else.
      // Only the answers are handed over under the lock, not the slicing.
      synchronized (lock) {
        reads++;
        for (int i = 0; i < batch.size(); i++) {
          if (pages != null) {
            batch.get(i).page = pages.get(i);
          } else {
            batch.get(i).failure =
                failure != null ? failure : new IllegalStateException("the shared read failed");
          }
        }
      }
    }
    return read;
  }

  /**
   * The pages of the readers that asked while {@code read} ran, for those it has events for: it
   * read from at or before their position, so their slice is a true page. Sliced outside the lock.
   */
  private Map<Request, HeadPage> offerToLateReaders(Read read) {
    List<Request> late;
    synchronized (lock) {
      late = List.copyOf(waiting);
    }
    Map<Request, HeadPage> offered = new HashMap<>();
    for (Request request : late) {
      if (request.after.compareTo(read.from()) < 0) {
        continue; // behind where the read started: the events in between are not in it
      }
      GlobalLogPage page = sliceOf(read.page(), read.from(), read.maxCount(), request);
      if (!page.events().isEmpty()) {
        offered.put(request, new HeadPage(page, read.page().heldBack()));
      }
    }
    return offered;
  }

  /**
   * The page {@code request} would have read: its events after its position, up to its count. The
   * shared read, of up to {@code sharedCount} events after {@code sharedFrom}, has everything up to
   * its last event (or up to where it started if it found none), so the reader has read up to there
   * unless its count stopped it first.
   */
  private static GlobalLogPage sliceOf(
      LogHeadReader.Page shared, Position sharedFrom, int sharedCount, Request request) {
    List<RecordedEvent> events = new ArrayList<>();
    for (RecordedEvent event : shared.events()) {
      if (event.position().isAfter(request.after) && request.filter.matches(event)) {
        events.add(event);
        if (events.size() == request.maxCount) {
          return new GlobalLogPage(events, event.position(), false);
        }
      }
    }
    List<RecordedEvent> all = shared.events();
    Position readUpTo = all.isEmpty() ? sharedFrom : all.get(all.size() - 1).position();
    Position next = readUpTo.isAfter(request.after) ? readUpTo : request.after;
    return new GlobalLogPage(events, next, all.size() < sharedCount);
  }
}
