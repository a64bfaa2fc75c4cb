package dev.eventscan.web;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.web.SseStream.Frame;
import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The viewers of one scan. Each of the scan's events becomes one frame (the event, then the scan's
 * summary once the read model has it) built once for all viewers, in order, off the feed's thread:
 * waiting for the read model must not delay other clients. The frames go to a {@link FrameLog} of
 * the scan's own, which its viewers follow.
 */
final class ScanChannel {
  private static final Logger log = LoggerFactory.getLogger(ScanChannel.class);

  /** The summary the last viewer got: reused while no newer event of the scan arrived. */
  private record Summary(Position after, String json) {}

  private final String scanId;
  private final Executor summaries;
  private final Function<RecordedEvent, String> summaryAfter;
  private final FrameLog viewers;
  private final ArrayDeque<RecordedEvent> inbox = new ArrayDeque<>(); // guarded by this
  private boolean processing; // guarded by this
  private volatile Summary latest;

  ScanChannel(
      String scanId,
      Executor summaries,
      Function<RecordedEvent, String> summaryAfter,
      FrameLog viewers) {
    this.scanId = scanId;
    this.summaries = summaries;
    this.summaryAfter = summaryAfter;
    this.viewers = viewers;
  }

  /** What the viewers follow (a viewer joins it as its stream opens). */
  FrameLog frames() {
    return viewers;
  }

  /** Removes a viewer; true when none is left. */
  boolean leave(SseStream viewer) {
    return viewers.leave(viewer);
  }

  /** From the feed's thread: never blocks. */
  void offer(RecordedEvent event) {
    synchronized (this) {
      inbox.add(event);
      if (processing) {
        return;
      }
      processing = true;
    }
    summaries.execute(this::process);
  }

  private void process() {
    boolean done = false;
    try {
      while (true) {
        RecordedEvent event;
        synchronized (this) {
          event = inbox.poll();
          if (event == null) {
            processing = false;
            done = true;
            return;
          }
        }
        Frame eventFrame = LiveHub.eventFrame(event);
        Frame summary = viewers.readers() == 0 ? null : summaryFrame(event);
        viewers.append(
            summary == null
                ? eventFrame
                : new Frame(event.position(), concat(eventFrame, summary)));
        viewers.wake();
      }
    } finally {
      if (!done) {
        // Something failed on this thread: the next offer starts again, or the channel would
        // take events for good without passing any on.
        synchronized (this) {
          processing = false;
        }
      }
    }
  }

  /**
   * A {@code summary} frame with the id of {@code event}: the scan as the read model has it now (at
   * least as of that event), computed once and shared by every viewer. It carries no position of
   * its own, so it never hides an event from a viewer. Null when the scan has no summary yet or the
   * read model cannot be read now.
   */
  Frame summaryFrame(RecordedEvent event) {
    Summary known = latest;
    String json;
    if (known != null && known.after().compareTo(event.position()) >= 0) {
      json = known.json();
    } else {
      try {
        json = summaryAfter.apply(event);
      } catch (RuntimeException e) {
        // The read model could not be read (the database): the event goes without its summary,
        // and the next event's summary catches up.
        log.warn("No summary of scan {} after {}: {}", scanId, event.position(), e.toString());
        return null;
      }
      if (json == null) {
        return null;
      }
      synchronized (this) {
        if (latest == null || latest.after().compareTo(event.position()) < 0) {
          latest = new Summary(event.position(), json);
        }
      }
    }
    return new Frame(null, LiveHub.frame("summary", event.position(), json));
  }

  private static byte[] concat(Frame first, Frame second) {
    ByteArrayOutputStream both =
        new ByteArrayOutputStream(first.bytes().length + second.bytes().length);
    both.writeBytes(first.bytes());
    both.writeBytes(second.bytes());
    return both.toByteArray();
  }

  @Override
  public String toString() {
    return "ScanChannel[" + scanId + ", " + viewers.readers() + " viewers]";
  }
}
