package dev.eventscan.eventstore.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.aggregate.AggregateRepository;
import dev.eventscan.eventstore.aggregate.AggregateType;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.live.LiveEvents;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.projection.Projections;
import dev.eventscan.eventstore.serialization.EventSerializer;
import dev.eventscan.eventstore.snapshot.SnapshotStore;
import dev.eventscan.eventstore.statistics.EventStatistics;
import dev.eventscan.eventstore.stream.AppendResult;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.ReadDirection;
import dev.eventscan.eventstore.stream.StreamAppend;
import dev.eventscan.eventstore.stream.StreamInfo;
import dev.eventscan.eventstore.stream.StreamSlice;
import dev.eventscan.eventstore.subscription.Subscriptions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Composes the writer and the readers; holds no state of its own. */
public final class PostgresEventStore implements EventStore {
  private final DataSource dataSource;
  private final String schema;
  private final JdbcStreamWriter writer;
  private final JdbcStreamReader reader;
  private final JdbcGlobalLogReader globalLog;
  private final SharedHeadReads headReads;
  private final AppendSignal appendSignal;
  private final AppendNotifier notifier;
  private final Duration pollInterval;
  private final ObjectMapper snapshotMapper = new ObjectMapper().findAndRegisterModules();
  private Subscriptions subscriptions;
  private Projections projections;
  private LiveEvents live;
  private SnapshotStore snapshots;
  private EventStatistics statistics;
  private boolean closed;

  public PostgresEventStore(
      DataSource dataSource,
      String schema,
      int maxEventDataBytes,
      List<dev.eventscan.eventstore.projection.Projection> inlineProjections,
      dev.eventscan.eventstore.NotifyMode notifyMode,
      Duration pollInterval,
      boolean coalesceAppends) {
    this(
        dataSource,
        schema,
        maxEventDataBytes,
        inlineProjections,
        notifyMode,
        pollInterval,
        coalesceAppends,
        JdbcStreamWriter.GATHER_ABOVE);
  }

  /** Tests choose from how many appends in flight on they gather, to line batches up cheaply. */
  PostgresEventStore(
      DataSource dataSource,
      String schema,
      int maxEventDataBytes,
      List<dev.eventscan.eventstore.projection.Projection> inlineProjections,
      dev.eventscan.eventstore.NotifyMode notifyMode,
      Duration pollInterval,
      boolean coalesceAppends,
      int gatherAbove) {
    this.dataSource = dataSource;
    this.pollInterval = pollInterval;
    this.schema = schema;
    this.appendSignal = new AppendSignal(dataSource, notificationChannel());
    this.notifier =
        notifyMode == dev.eventscan.eventstore.NotifyMode.AFTER_COMMIT
            ? new AppendNotifier(dataSource, notificationChannel(), appendSignal)
            : null;
    this.writer =
        new JdbcStreamWriter(
            dataSource,
            schema,
            new AppendValidator(maxEventDataBytes),
            inlineProjections,
            notifyMode == dev.eventscan.eventstore.NotifyMode.IN_TRANSACTION
                ? new InTransactionHint(notificationChannel(), appendSignal.ownPayload())
                : null,
            notifier == null ? appendSignal::signal : this::appended,
            coalesceAppends,
            gatherAbove);
    this.reader = new JdbcStreamReader(dataSource, schema);
    this.globalLog = new JdbcGlobalLogReader(dataSource, schema);
    this.headReads = new SharedHeadReads(new LogHeadReader(dataSource, schema));
  }

  /** After a commit: this process's readers at once, other processes' by the NOTIFY hint. */
  private void appended() {
    appendSignal.signal();
    notifier.appended();
  }

  @Override
  public synchronized Subscriptions subscriptions() {
    requireOpen();
    if (subscriptions == null) {
      subscriptions = new Subscriptions(this);
    }
    return subscriptions;
  }

  @Override
  public synchronized Projections projections() {
    requireOpen();
    if (projections == null) {
      projections = new Projections(subscriptions(), options -> options.pollInterval(pollInterval));
    }
    return projections;
  }

  @Override
  public synchronized LiveEvents live() {
    requireOpen();
    if (live == null) {
      live = new LiveEvents(this, pollInterval);
    }
    return live;
  }

  @Override
  public synchronized SnapshotStore snapshots() {
    if (snapshots == null) {
      snapshots = new SnapshotStore(this, snapshotMapper);
    }
    return snapshots;
  }

  @Override
  public synchronized EventStatistics statistics() {
    if (statistics == null) {
      statistics = new EventStatistics(this, subscriptions(), projections());
    }
    return statistics;
  }

  @Override
  public <S, E> AggregateRepository<S, E> aggregates(
      AggregateType<S, E> type, EventSerializer serializer) {
    return new AggregateRepository<>(
        this, type, serializer, snapshots(), AggregateRepository.DEFAULT_CONFLICT_RETRIES);
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("the event store is closed");
    }
  }

  @Override
  public void close() {
    LiveEvents liveToClose;
    Projections projectionsToClose;
    Subscriptions subscriptionsToClose;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      liveToClose = live;
      projectionsToClose = projections;
      subscriptionsToClose = subscriptions;
    }
    if (liveToClose != null) {
      liveToClose.close();
    }
    if (projectionsToClose != null) {
      projectionsToClose.close();
    }
    if (subscriptionsToClose != null) {
      subscriptionsToClose.stopAll();
    }
    if (notifier != null) {
      notifier.close();
    }
    appendSignal.close();
  }

  /** How many coalesced batches may be written at once (tests plug them all). */
  int maxBatchesInFlight() {
    return writer.maxBatchesInFlight();
  }

  /** Up to how many appends in flight each goes alone; 0 when appends are not coalesced. */
  int gatherAbove() {
    return writer.gatherAbove();
  }

  /** Appends waiting for a coalesced batch (tests line batches up with it). */
  int queuedAppends() {
    return writer.queuedAppends();
  }

  /** Batches written and appends that shared one, for tests; empty when not coalescing. */
  Optional<AppendCoalescer.Stats> coalescerStats() {
    return writer.coalescerStats();
  }

  @Override
  public String schema() {
    return schema;
  }

  @Override
  public DataSource dataSource() {
    return dataSource;
  }

  @Override
  public AppendResult append(String streamId, ExpectedVersion expected, List<EventData> events) {
    return writer.append(streamId, expected, events);
  }

  @Override
  public List<AppendResult> appendAtomically(List<StreamAppend> appends) {
    return writer.appendAtomically(appends);
  }

  @Override
  public void deleteStream(String streamId, ExpectedVersion expectedVersion) {
    writer.deleteStream(streamId, expectedVersion);
  }

  @Override
  public StreamSlice readStream(
      String streamId, long fromVersion, int maxCount, ReadDirection direction) {
    return reader.readStream(streamId, fromVersion, maxCount, direction);
  }

  @Override
  public Optional<StreamInfo> streamInfo(String streamId) {
    return reader.streamInfo(streamId);
  }

  @Override
  public List<StreamInfo> listStreams(dev.eventscan.eventstore.stream.StreamQuery query) {
    return reader.listStreams(query);
  }

  @Override
  public List<dev.eventscan.eventstore.stream.RecordedEvent> readBackwards(
      Position before, EventFilter filter, int maxCount) {
    return globalLog.readBackwards(before, filter, maxCount);
  }

  @Override
  public GlobalLogPage readAll(Position after, EventFilter filter, int maxCount) {
    return globalLog.readAll(after, filter, maxCount);
  }

  /** Reads at the log's head for readers that have caught up, shared between them. */
  public SharedHeadReads headReads() {
    return headReads;
  }

  /** Wakes this store's waiting readers when events may have been appended. */
  public AppendSignal appendSignal() {
    return appendSignal;
  }

  @Override
  public Position headPosition() {
    return globalLog.headPosition();
  }

  @Override
  public Position headPosition(EventFilter filter) {
    return globalLog.headPosition(filter);
  }

  @Override
  public List<dev.eventscan.eventstore.stream.RecordedEvent> readLatest(
      EventFilter filter, int maxCount) {
    return globalLog.readLatest(filter, maxCount);
  }

  @Override
  public Duration barrierAge() {
    return globalLog.barrierAge();
  }
}
