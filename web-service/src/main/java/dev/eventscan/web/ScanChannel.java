package dev.eventscan.web;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.web.SseStream.Frame;
import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The viewers of one scan. Each of the scan's events becomes one frame (the event, then the scan's
 * summary once the read model has it) built once for all viewers, in order, off the feed's thread:
 * waiting for the read model must not delay other clients. The frames go to a {@link FrameLog} of
 * the scan's own, which its viewers follow.
 */
final class ScanChannel {
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
    while (true) {
      RecordedEvent event;
      synchronized (this) {
        event = inbox.poll();
        if (event == null) {
          processing = false;
          return;
        }
      }
      Frame eventFrame = LiveHub.eventFrame(event);
      Frame summary = viewers.readers() == 0 ? null : summaryFrame(event);
      viewers.append(
          summary == null ? eventFrame : new Frame(event.position(), concat(eventFrame, summary)));
      viewers.wake();
    }
  }

  /**
   * A {@code summary} frame with the id of {@code event}: the scan as the read model has it now (at
   * least as of that event), computed once and shared by every viewer. It carries no position of
   * its own, so it never hides an event from a viewer.
   */
  Frame summaryFrame(RecordedEvent event) {
    Summary known = latest;
    String json;
    if (known != null && known.after().compareTo(event.position()) >= 0) {
      json = known.json();
    } else {
      json = summaryAfter.apply(event);
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
