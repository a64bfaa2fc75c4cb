package dev.eventscan.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcSQLErrorCodesResolver;
import org.axonframework.eventsourcing.eventstore.jdbc.PostgresEventTableFactory;
import org.axonframework.messaging.MetaData;
import org.axonframework.serialization.json.JacksonSerializer;

/**
 * Axon Framework 4's {@code JdbcEventStorageEngine} on the benchmark's database, configured the way
 * its reference guide does for PostgreSQL: its own table ({@code domainevententry}, payload and
 * metadata as {@code bytea}), Jackson serialization, a gap-aware tracking token for global reads.
 */
final class AxonPeer implements AutoCloseable {
  /** The aggregate type Axon stores beside each event. */
  static final String AGGREGATE_TYPE = "Order";

  /** The same JSON as {@link Payloads#DATA}, as the tree Axon's Jackson serializer writes. */
  private static final JsonNode PAYLOAD = parse(Payloads.DATA);

  /** The payload type Axon records for {@link #PAYLOAD}: the class Jackson parsed it into. */
  static final String PAYLOAD_TYPE = PAYLOAD.getClass().getName();

  private final HikariDataSource dataSource;
  private final AxonTransactions transactions;
  private final JdbcEventStorageEngine engine;

  AxonPeer(String jdbcUrl) {
    dataSource = BenchmarkDatabase.pool(jdbcUrl, "axon");
    transactions = new AxonTransactions(dataSource);
    JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
    engine =
        JdbcEventStorageEngine.builder()
            .connectionProvider(transactions)
            .transactionManager(transactions)
            .eventSerializer(serializer)
            .snapshotSerializer(serializer)
            .persistenceExceptionResolver(new JdbcSQLErrorCodesResolver())
            .batchSize(ReadAllScenario.PAGE)
            .build();
    engine.createSchema(PostgresEventTableFactory.INSTANCE);
  }

  /** One event of aggregate {@code aggregateId} at {@code sequenceNumber} (Axon counts from 0). */
  static DomainEventMessage<JsonNode> event(String aggregateId, long sequenceNumber) {
    return new GenericDomainEventMessage<>(
        AGGREGATE_TYPE,
        aggregateId,
        sequenceNumber,
        PAYLOAD,
        MetaData.with("correlationId", UUID.randomUUID().toString()));
  }

  /** Appends in one transaction; a taken sequence number fails on Axon's unique index. */
  void append(List<DomainEventMessage<?>> events) {
    engine.appendEvents(events);
  }

  /**
   * Reads everything after {@code token} ({@code null}: from the start) that is visible now, in
   * batches of {@link ReadAllScenario#PAGE}; the caller must close the stream.
   */
  Stream<? extends TrackedEventMessage<?>> readAfter(TrackingToken token) {
    return engine.readEvents(token, false);
  }

  /** Runs SQL on Axon's database outside the engine: bulk fills and test triggers. */
  void execute(String sql) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  @Override
  public void close() {
    dataSource.close();
  }

  private static JsonNode parse(String json) {
    try {
      return new ObjectMapper().readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Payloads.DATA is not JSON", e);
    }
  }
}
