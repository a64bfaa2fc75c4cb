package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.EventStoreStorageException;
import dev.eventscan.eventstore.InvalidInputException;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.projection.InlineProjectionFailedException;
import dev.eventscan.eventstore.projection.Projection;
import dev.eventscan.eventstore.stream.AppendOutcomeUnknownException;
import dev.eventscan.eventstore.stream.AppendResult;
import dev.eventscan.eventstore.stream.DuplicateEventIdException;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamAppend;
import dev.eventscan.eventstore.stream.StreamDeletedException;
import dev.eventscan.eventstore.stream.StreamIds;
import dev.eventscan.eventstore.stream.StreamNotFoundException;
import dev.eventscan.eventstore.stream.StreamWriter;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.postgresql.util.PSQLException;

/**
 * Appends with one guarded INSERT ({@link GuardedInsert}): one round trip, no lock. Everything that
 * is not the plain success path (conflicts, retries after a timeout, deleted streams) is sorted out
 * here after the database refused the append, so it costs nothing when appends succeed.
 */
final class JdbcStreamWriter implements StreamWriter {
  /** Appends with {@code any} or {@code streamExists} that lost a race are simply run again. */
  private static final int MAX_RACE_RETRIES = 20;

  private static final String VERSION_CONSTRAINT = "events_stream_version_unique";
  private static final String EVENT_ID_CONSTRAINT = "events_event_id_unique";
  private static final String TOMBSTONE_TYPE = "$stream-deleted";
  private static final String DELETED_STREAMS_SQL =
      "UPDATE %s.streams SET deleted_at = now() WHERE stream_id = ?";

  /** A coalesced batch's bounds: enough to fill a commit, small enough to keep latency flat. */
  private static final int MAX_BATCH_APPENDS = 256;

  /**
   * Up to four batches at a time: while one waits for its WAL flush, others run their INSERT, and
   * PostgreSQL's group commit flushes them together. Up to four callers therefore write at once
   * without queueing. Measured on the 2-core benchmark VM against 1, 2 and 8 (benchmarks/README).
   */
  private static final int MAX_BATCHES_IN_FLIGHT = 4;

  /**
   * Appends gather into batches only while more than this many are in flight. Below, PostgreSQL's
   * group commit already shares WAL flushes and a queue only adds a wait: gathering lost to
   * appending alone at 8 and at 16 writers and won at 32 (benchmarks/README, issue 12).
   */
  static final int GATHER_ABOVE = 16;

  private static final int MAX_BATCH_EVENTS = 2_000;
  private static final long MAX_BATCH_DATA_CHARS = 8L * 1024 * 1024;

  private final DataSource dataSource;
  private final List<Projection> inlineProjections;
  private final InTransactionHint inTransactionHint; // null unless NotifyMode.IN_TRANSACTION
  private final Runnable afterCommit;
  private final String appendedEventsSql;
  private final AppendValidator validator;
  private final GuardedInsert guardedInsert;
  private final String markDeletedSql;
  private final String originalAppendSql;
  private final AppendCoalescer coalescer;
  private final BatchAppender batchAppender;

  JdbcStreamWriter(
      DataSource dataSource,
      String schema,
      AppendValidator validator,
      List<Projection> inlineProjections,
      InTransactionHint inTransactionHint,
      Runnable afterCommit,
      boolean coalesceAppends,
      int gatherAbove) {
    this.dataSource = dataSource;
    this.inTransactionHint = inTransactionHint;
    this.afterCommit = afterCommit;
    this.validator = validator;
    this.inlineProjections = List.copyOf(inlineProjections);
    this.appendedEventsSql =
        "SELECT %s FROM %s.events WHERE event_id = ANY(?) ORDER BY id"
            .formatted(EventRows.COLUMNS, schema);
    this.guardedInsert = new GuardedInsert(schema);
    this.markDeletedSql = DELETED_STREAMS_SQL.formatted(schema);
    this.originalAppendSql =
        """
        SELECT event_id, stream_id, stream_version, transaction_id::text AS transaction_id_text, id
          FROM %s.events
         WHERE event_id = ANY(?)
        """
            .formatted(schema);
    this.batchAppender =
        new BatchAppender(dataSource, schema, guardedInsert, inTransactionHint, afterCommit);
    // Inline projections run per append inside its transaction: such appends are never batched.
    this.coalescer =
        coalesceAppends && this.inlineProjections.isEmpty()
            ? new AppendCoalescer(
                this::writeBatch,
                gatherAbove,
                MAX_BATCHES_IN_FLIGHT,
                MAX_BATCH_APPENDS,
                MAX_BATCH_EVENTS,
                MAX_BATCH_DATA_CHARS)
            : null;
  }

  @Override
  public AppendResult append(String streamId, ExpectedVersion expected, List<EventData> events) {
    validator.validate(streamId, expected, events);
    StreamAppend part = new StreamAppend(streamId, expected, events);
    if (coalescer == null || !BatchAppender.accepts(part)) {
      return appendAtomicallyValidated(List.of(part)).get(0);
    }
    try (AppendCoalescer.Admission admission = coalescer.admit()) {
      if (admission.gathers()) {
        BatchOutcome outcome = coalescer.append(part);
        if (outcome instanceof BatchOutcome.Appended appended) {
          return appended.result();
        }
        if (outcome instanceof BatchOutcome.Unknown unknown) {
          throw new AppendOutcomeUnknownException(streamId, unknown.cause());
        }
        // Not written: appending alone explains the refusal, or writes it (a batch that failed).
      }
      return appendAtomicallyValidated(List.of(part)).get(0);
    }
  }

  /** Writes a coalesced batch; one append alone takes the one-statement path, as if uncoalesced. */
  private List<BatchOutcome> writeBatch(List<StreamAppend> batch) {
    if (batch.size() > 1 || inTransactionHint != null) {
      return batchAppender.write(batch);
    }
    StreamAppend part = batch.get(0);
    try (Connection connection = dataSource.getConnection()) {
      if (appendInOneStatement(connection, part) instanceof Attempt.Appended appended) {
        afterCommit.run();
        return List.of(new BatchOutcome.Appended(appended.results().get(0)));
      }
      return List.of(new BatchOutcome.NotWritten());
    } catch (AppendOutcomeUnknownException e) {
      return List.of(new BatchOutcome.Unknown(e.getCause()));
    } catch (SQLException e) {
      return List.of(new BatchOutcome.NotWritten()); // no connection: nothing was sent
    }
  }

  /** How many coalesced batches may be written at once; 0 when appends are not coalesced. */
  int maxBatchesInFlight() {
    return coalescer == null ? 0 : coalescer.maxWriters();
  }

  /** Up to how many appends in flight each goes alone; 0 when appends are not coalesced. */
  int gatherAbove() {
    return coalescer == null ? 0 : coalescer.gatherAbove();
  }

  /** Appends waiting for a coalesced batch; 0 when appends are not coalesced. */
  int queuedAppends() {
    return coalescer == null ? 0 : coalescer.queued();
  }

  /**
   * How much coalescing happened, for tests and benchmarks; empty when appends are not coalesced.
   */
  Optional<AppendCoalescer.Stats> coalescerStats() {
    return coalescer == null ? Optional.empty() : Optional.of(coalescer.stats());
  }

  @Override
  public List<AppendResult> appendAtomically(List<StreamAppend> appends) {
    if (appends == null || appends.isEmpty()) {
      throw new InvalidInputException("an atomic append needs at least one stream");
    }
    Set<String> streamIds = new HashSet<>();
    for (StreamAppend part : appends) {
      if (part == null) {
        throw new InvalidInputException("an atomic append must not contain null");
      }
      validator.validate(part.streamId(), part.expectedVersion(), part.events());
      if (!streamIds.add(part.streamId())) {
        throw new InvalidInputException(
            "stream '"
                + part.streamId()
                + "' appears twice in one atomic append; merge its events");
      }
    }
    return appendAtomicallyValidated(appends);
  }

  /** What one attempt came to: the results, or the part the database refused and why. */
  private sealed interface Attempt {
    record Appended(List<AppendResult> results) implements Attempt {}

    /** {@code cause} is null when an exact expectation's guard matched no row. */
    record Refused(StreamAppend part, SQLException cause) implements Attempt {}
  }

  private List<AppendResult> appendAtomicallyValidated(List<StreamAppend> appends) {
    // Always the same order, so two multi-stream appends never wait on each other in a cycle.
    Integer[] order = new Integer[appends.size()];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparing(i -> appends.get(i).streamId()));
    // A single append without inline projections is one statement: auto-commit makes it one
    // round trip.
    boolean single =
        appends.size() == 1 && inlineProjections.isEmpty() && inTransactionHint == null;
    for (int attempt = 1; ; attempt++) {
      try (Connection connection = dataSource.getConnection()) {
        Attempt outcome =
            single
                ? appendInOneStatement(connection, appends.get(0))
                : appendInTransaction(connection, appends, order);
        if (outcome instanceof Attempt.Appended appended) {
          afterCommit.run();
          return appended.results();
        }
        Attempt.Refused refused = (Attempt.Refused) outcome;
        Optional<List<AppendResult>> earlier = originalAppends(connection, appends);
        if (earlier.isPresent()) {
          return earlier.get();
        }
        RuntimeException error = refusal(connection, refused);
        if (error != null) {
          throw error;
        }
        if (attempt < MAX_RACE_RETRIES) {
          // A little random patience, so racing writers stop colliding in lockstep.
          LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(attempt * 200_000L));
        } else {
          throw new EventStoreStorageException(
              "append to '"
                  + refused.part().streamId()
                  + "' lost the race to concurrent appends "
                  + attempt
                  + " times; nothing was written, try again",
              refused.cause());
        }
      } catch (SQLException e) {
        // Taking a connection failed, or the refusal could not be explained: nothing was written.
        throw Jdbc.storageFailure("append", e);
      }
    }
  }

  /**
   * Inserts one part in the open transaction; a refusal rolls the transaction back. A lost
   * connection is rethrown: never committed, as PostgreSQL rolls back a transaction whose session
   * died.
   */
  private Attempt insertOrRollBack(Connection connection, StreamAppend part) throws SQLException {
    Optional<AppendResult> result;
    try {
      result = insert(connection, part);
    } catch (SQLException e) {
      if (Jdbc.isConnectionFailure(e)) {
        throw e;
      }
      connection.rollback();
      return new Attempt.Refused(part, e);
    }
    if (result.isEmpty()) {
      connection.rollback();
      return new Attempt.Refused(part, null);
    }
    return new Attempt.Appended(List.of(result.get()));
  }

  /** Auto-commit: the statement is the transaction, and a lost connection leaves it unknown. */
  private Attempt appendInOneStatement(Connection connection, StreamAppend part)
      throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    if (!autoCommit) {
      connection.setAutoCommit(true);
    }
    try {
      Optional<AppendResult> result = insert(connection, part);
      return result.isPresent()
          ? new Attempt.Appended(List.of(result.get()))
          : new Attempt.Refused(part, null);
    } catch (SQLException e) {
      if (Jdbc.isConnectionFailure(e)) {
        throw new AppendOutcomeUnknownException(part.streamId(), e);
      }
      return new Attempt.Refused(part, e);
    } finally {
      Jdbc.restoreAutoCommit(connection, autoCommit);
    }
  }

  /**
   * Several statements in one REPEATABLE READ transaction. Its snapshot is taken before its
   * transaction id, so no statement sees an append from a younger transaction: building on one
   * would put version n+1 (our id) before version n (theirs) in the global order.
   */
  private Attempt appendInTransaction(
      Connection connection, List<StreamAppend> appends, Integer[] order) throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try {
      try (Statement isolation = connection.createStatement()) {
        isolation.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      }
      AppendResult[] results = new AppendResult[appends.size()];
      for (int i : order) {
        StreamAppend part = appends.get(i);
        Attempt attempt = insertOrRollBack(connection, part);
        if (!(attempt instanceof Attempt.Appended appended)) {
          return attempt;
        }
        results[i] = appended.results().get(0);
        projectInline(connection, part);
      }
      notifyInTransaction(connection);
      try {
        connection.commit();
      } catch (SQLException e) {
        if (Jdbc.isConnectionFailure(e)) {
          throw new AppendOutcomeUnknownException(appends.get(order[0]).streamId(), e);
        }
        throw e;
      }
      return new Attempt.Appended(List.of(results));
    } catch (SQLException | RuntimeException e) {
      if (!(e instanceof AppendOutcomeUnknownException)) {
        Jdbc.rollbackQuietly(connection, e);
      }
      throw e;
    } finally {
      Jdbc.restoreAutoCommit(connection, autoCommit);
    }
  }

  /** One part's INSERT; empty when the guard refused it (expected version or tombstone). */
  private Optional<AppendResult> insert(Connection connection, StreamAppend part)
      throws SQLException {
    GuardedInsert.Written written = guardedInsert.insert(connection, part).get(part.streamId());
    return written == null
        ? Optional.empty()
        : Optional.of(
            new AppendResult(part.streamId(), written.lastVersion, written.lastPosition()));
  }

  private void notifyInTransaction(Connection connection) throws SQLException {
    if (inTransactionHint != null) {
      inTransactionHint.send(connection);
    }
  }

  private void projectInline(Connection connection, StreamAppend part) throws SQLException {
    if (inlineProjections.isEmpty()) {
      return;
    }
    List<RecordedEvent> appended = new ArrayList<>();
    try (PreparedStatement select = connection.prepareStatement(appendedEventsSql)) {
      select.setArray(
          1,
          connection.createArrayOf(
              "uuid", part.events().stream().map(EventData::eventId).toArray()));
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          appended.add(EventRows.map(rows));
        }
      }
    }
    for (Projection projection : inlineProjections) {
      for (RecordedEvent event : appended) {
        if (projection.filter().matches(event)) {
          try {
            projection.project(event, connection);
          } catch (Exception e) {
            throw new InlineProjectionFailedException(projection.name(), event, e);
          }
        }
      }
    }
  }

  /**
   * The error for a refused part, or null when trying again is right (a lost race, a snapshot older
   * than the stream). Runs after the rollback, so what it reads is current.
   */
  private RuntimeException refusal(Connection connection, Attempt.Refused refused)
      throws SQLException {
    StreamAppend part = refused.part();
    SQLException cause = refused.cause();
    String streamId = part.streamId();
    String state = cause == null || cause.getSQLState() == null ? "" : cause.getSQLState();
    switch (state) {
      case "40001", "40P01":
        return null; // serialization failure or deadlock: nothing was written
      case "23505":
        if (EVENT_ID_CONSTRAINT.equals(constraint(cause))) {
          return new DuplicateEventIdException(streamId, null);
        }
        if (isLostRace(cause, part)) {
          return null;
        }
        return explainRefusedExpectation(connection, part);
      case "":
        return explainRefusedExpectation(connection, part);
      case "22P02", "22P05", "22021", "22032", "22025", "2200N", "22030", "22031", "22033", "22034":
        return new InvalidInputException(
            "stream '"
                + streamId
                + "': event data or metadata is not valid JSON or text: "
                + cause.getMessage(),
            cause);
      default:
        return Jdbc.storageFailure("append to " + streamId, cause);
    }
  }

  /**
   * Why an expectation was refused, from the stream's last event now; null if the stream now
   * matches it (the refusing transaction's snapshot predated the expected version).
   */
  private RuntimeException explainRefusedExpectation(Connection connection, StreamAppend part)
      throws SQLException {
    GuardedInsert.Head head = guardedInsert.head(connection, part.streamId());
    if (head.deleted()) {
      return new StreamDeletedException(part.streamId());
    }
    return part.expectedVersion().matches(head.version())
        ? null
        : new WrongExpectedVersionException(
            part.streamId(), part.expectedVersion(), head.version());
  }

  /**
   * If every part's event ids were already appended, by an earlier call with the same streams, ids
   * and expectations (a retry after a timeout), that call's results. If some ids were appended some
   * other way, the append is refused.
   */
  private Optional<List<AppendResult>> originalAppends(
      Connection connection, List<StreamAppend> appends) throws SQLException {
    List<UUID> allIds = new ArrayList<>();
    appends.forEach(part -> part.events().forEach(event -> allIds.add(event.eventId())));
    Map<UUID, StoredEvent> stored = new HashMap<>();
    try (PreparedStatement statement = connection.prepareStatement(originalAppendSql)) {
      statement.setArray(1, connection.createArrayOf("uuid", allIds.toArray()));
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          stored.put(
              rows.getObject(1, UUID.class),
              new StoredEvent(
                  rows.getString(2),
                  rows.getLong(3),
                  Position.of(rows.getString(4), rows.getLong(5))));
        }
      }
    }
    if (stored.isEmpty()) {
      return Optional.empty();
    }
    List<AppendResult> results = new ArrayList<>();
    for (StreamAppend part : appends) {
      Optional<AppendResult> earlier = originalAppend(part, stored);
      if (earlier.isEmpty()) {
        UUID reused =
            part.events().stream()
                .map(EventData::eventId)
                .filter(stored::containsKey)
                .findFirst()
                .orElse(stored.keySet().iterator().next());
        throw new DuplicateEventIdException(part.streamId(), reused);
      }
      results.add(earlier.get());
    }
    return Optional.of(results);
  }

  private static Optional<AppendResult> originalAppend(
      StreamAppend part, Map<UUID, StoredEvent> stored) {
    StoredEvent first = stored.get(part.events().get(0).eventId());
    if (first == null || !first.streamId().equals(part.streamId())) {
      return Optional.empty();
    }
    for (int i = 0; i < part.events().size(); i++) {
      StoredEvent event = stored.get(part.events().get(i).eventId());
      if (event == null
          || !event.streamId().equals(part.streamId())
          || event.version() != first.version() + i) {
        return Optional.empty();
      }
    }
    if (!part.expectedVersion().matches(first.version() - 1)) {
      return Optional.empty();
    }
    StoredEvent last = stored.get(part.events().get(part.events().size() - 1).eventId());
    return Optional.of(new AppendResult(part.streamId(), last.version(), last.position()));
  }

  private record StoredEvent(String streamId, long version, Position position) {}

  /** Another append took the version first; with these expectations, trying again is right. */
  private static boolean isLostRace(SQLException e, StreamAppend part) {
    return "23505".equals(e.getSQLState())
        && VERSION_CONSTRAINT.equals(constraint(e))
        && (part.expectedVersion() instanceof ExpectedVersion.Any
            || part.expectedVersion() instanceof ExpectedVersion.StreamExists);
  }

  private static String constraint(SQLException e) {
    if (e instanceof PSQLException psql && psql.getServerErrorMessage() != null) {
      return psql.getServerErrorMessage().getConstraint();
    }
    return null;
  }

  /**
   * Appends the tombstone through the same guard as every append, then marks the stream row, in one
   * transaction. A delete needs an existing stream: {@code any()} means {@code streamExists()}, and
   * an expectation of no stream is refused without writing.
   */
  @Override
  public void deleteStream(String streamId, ExpectedVersion expected) {
    StreamIds.requireValid(streamId);
    if (expected == null) {
      throw new InvalidInputException("expected version must not be null");
    }
    StreamAppend tombstone =
        new StreamAppend(
            streamId,
            expected instanceof ExpectedVersion.Any ? ExpectedVersion.streamExists() : expected,
            List.of(new EventData(UUID.randomUUID(), TOMBSTONE_TYPE, "{}", null)));
    for (int attempt = 1; ; attempt++) {
      try (Connection connection = dataSource.getConnection()) {
        RuntimeException error;
        if (expected.highestVersion() == 0) {
          error = deleteRefusal(connection, tombstone);
        } else {
          Attempt outcome = deleteInTransaction(connection, tombstone);
          if (outcome instanceof Attempt.Appended) {
            afterCommit.run();
            return;
          }
          Attempt.Refused refused = (Attempt.Refused) outcome;
          error =
              refused.cause() == null
                  ? deleteRefusal(connection, tombstone)
                  : refusal(connection, refused);
        }
        if (error != null) {
          throw error;
        }
        if (attempt >= MAX_RACE_RETRIES) {
          throw new EventStoreStorageException(
              "delete of '" + streamId + "' lost the race to concurrent appends; try again", null);
        }
      } catch (SQLException e) {
        throw Jdbc.storageFailure("delete " + streamId, e);
      }
    }
  }

  private Attempt deleteInTransaction(Connection connection, StreamAppend tombstone)
      throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try {
      Attempt attempt = insertOrRollBack(connection, tombstone);
      if (!(attempt instanceof Attempt.Appended)) {
        return attempt;
      }
      try (PreparedStatement mark = connection.prepareStatement(markDeletedSql)) {
        mark.setString(1, tombstone.streamId());
        mark.executeUpdate();
      }
      try {
        connection.commit();
      } catch (SQLException e) {
        if (Jdbc.isConnectionFailure(e)) {
          throw new AppendOutcomeUnknownException(tombstone.streamId(), e);
        }
        throw e;
      }
      return attempt;
    } catch (SQLException | RuntimeException e) {
      if (!(e instanceof AppendOutcomeUnknownException)) {
        Jdbc.rollbackQuietly(connection, e);
      }
      throw e;
    } finally {
      Jdbc.restoreAutoCommit(connection, autoCommit);
    }
  }

  /** Why a delete was refused: a stream never written is not found; else as for an append. */
  private RuntimeException deleteRefusal(Connection connection, StreamAppend tombstone)
      throws SQLException {
    if (guardedInsert.head(connection, tombstone.streamId()).version() == 0) {
      return new StreamNotFoundException(tombstone.streamId());
    }
    return explainRefusedExpectation(connection, tombstone);
  }
}
