package dev.eventscan.eventstore;

import dev.eventscan.eventstore.global.GlobalLogReader;
import dev.eventscan.eventstore.stream.StreamReader;
import dev.eventscan.eventstore.stream.StreamWriter;
import javax.sql.DataSource;

/**
 * An event store on PostgreSQL: streams with optimistic concurrency and a global log that never
 * skips an event. Thread-safe; one instance per {@link DataSource} and schema.
 *
 * <pre>{@code
 * EventStore store = EventStore.builder(dataSource).build(); // migrates schema event_store
 * store.append("order-42", ExpectedVersion.noStream(), EventData.of("OrderPlaced", "{}"));
 * }</pre>
 */
public interface EventStore extends StreamWriter, StreamReader, GlobalLogReader, AutoCloseable {

  static EventStoreBuilder builder(DataSource dataSource) {
    return new EventStoreBuilder(dataSource);
  }

  /** The PostgreSQL schema holding the store's tables. */
  String schema();

  /** The data source the store runs on. */
  DataSource dataSource();

  /** The LISTEN channel appends notify on. */
  default String notificationChannel() {
    return schema() + "_appended";
  }

  /** Stops the store's background notifier; the data source stays open (it is the caller's). */
  @Override
  void close();
}
