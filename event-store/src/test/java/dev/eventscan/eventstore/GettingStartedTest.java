package dev.eventscan.eventstore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.aggregate.AggregateRepository;
import dev.eventscan.eventstore.aggregate.AggregateType;
import dev.eventscan.eventstore.aggregate.CommandMetadata;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.live.LiveSubscription;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.projection.Projection;
import dev.eventscan.eventstore.serialization.EventTypeRegistry;
import dev.eventscan.eventstore.serialization.JacksonEventSerializer;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.ReadDirection;
import dev.eventscan.eventstore.stream.StreamSlice;
import dev.eventscan.eventstore.subscription.Await;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.testsupport.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The getting-started example of event-store/README.md, run for real. The README must show the
 * lines between the markers exactly (indentation aside), so the example can never go stale.
 */
@ExtendWith(PostgresExtension.class)
class GettingStartedTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  // README:start
  record OrderPlaced(long total) {}

  record OrderPaid() {}

  record Order(long total, boolean paid) {}

  static void gettingStarted(DataSource dataSource, List<String> seen) throws Exception {
    try (EventStore store = EventStore.builder(dataSource).build()) { // migrates event_store
      // 1. Append with an expected version; read the stream back.
      store.append(
          "order-1", ExpectedVersion.noStream(), EventData.of("OrderPlaced", "{\"total\":42}"));
      store.append("order-1", ExpectedVersion.exactly(1), EventData.of("OrderPaid", "{}"));
      StreamSlice order = store.readStream("order-1", 1, 100, ReadDirection.FORWARDS);

      // 2. A named subscription: catches up, then live; its checkpoint survives restarts.
      var audit =
          store
              .subscriptions()
              .start(
                  SubscriptionOptions.named("audit").filter(EventFilter.categories("order")),
                  event -> seen.add(event.streamId() + "/" + event.type()));

      // 3. A projection: the read model and its checkpoint change in one transaction.
      Jdbc.inTransaction(
          dataSource,
          "create read model",
          c ->
              Jdbc.update(
                  c,
                  "CREATE TABLE IF NOT EXISTS order_totals (id text PRIMARY KEY, total bigint)",
                  Jdbc.Parameters.NONE));
      store
          .projections()
          .start(
              Projection.of(
                  "order-totals",
                  EventFilter.types("OrderPlaced"),
                  (event, c) ->
                      Jdbc.update(
                          c,
                          "INSERT INTO order_totals VALUES (?, (?::jsonb->>'total')::bigint)",
                          s -> {
                            s.setString(1, event.streamId());
                            s.setString(2, event.data());
                          }),
                  c -> Jdbc.update(c, "DELETE FROM order_totals", Jdbc.Parameters.NONE)));

      // 4. An aggregate: load, decide, append at the loaded version (retried on conflicts).
      var serializer =
          new JacksonEventSerializer(
              new EventTypeRegistry()
                  .register("OrderPlaced", OrderPlaced.class)
                  .register("OrderPaid", OrderPaid.class));
      AggregateRepository<Order, Object> orders =
          store.aggregates(
              AggregateType.of(
                  "order",
                  Order.class,
                  Object.class,
                  id -> new Order(0, false),
                  (state, event) ->
                      event instanceof OrderPlaced placed
                          ? new Order(placed.total(), false)
                          : new Order(state.total(), true)),
              serializer);
      orders.update("2", CommandMetadata.newCommand(), state -> List.of(new OrderPlaced(7)));
      Order paid =
          orders
              .update(
                  "2",
                  CommandMetadata.newCommand(),
                  state -> state.paid() ? List.of() : List.of(new OrderPaid()))
              .state();

      // 5. Live: every new event as it commits, e.g. to push to browsers; nothing stored.
      try (LiveSubscription live =
          store
              .live()
              .subscribe(
                  Position.START,
                  EventFilter.categories("order"),
                  event -> seen.add("live " + event.type()))) {
        store
            .projections()
            .awaitPosition("order-totals", store.headPosition(), Duration.ofSeconds(30));
        audit.awaitPosition(store.headPosition(), Duration.ofSeconds(30));
      }
    } // close() stops the subscriptions, projections and live feed it started
  }

  // README:end

  @Test
  void the_readme_example_runs_and_does_what_it_says(DataSource dataSource) throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    gettingStarted(dataSource, seen);

    assertThat(seen)
        .contains("live OrderPlaced", "live OrderPaid")
        .contains("order-1/OrderPlaced", "order-1/OrderPaid", "order-2/OrderPlaced");
    List<Long> totals =
        Jdbc.withConnection(
            dataSource,
            "read totals",
            c ->
                Jdbc.query(
                    c,
                    "SELECT total FROM order_totals ORDER BY id",
                    Jdbc.Parameters.NONE,
                    row -> row.getLong(1)));
    assertThat(totals).containsExactly(42L, 7L);
    try (EventStore store = EventStore.builder(dataSource).build()) {
      assertThat(store.readStream("order-2", 1, 10, ReadDirection.FORWARDS).events())
          .extracting(e -> e.type())
          .containsExactly("OrderPlaced", "OrderPaid");
    }
    Await.until(
        "threads stopped",
        WAIT,
        () ->
            Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("subscription-audit")));
  }

  @Test
  void the_readme_shows_exactly_this_example() throws Exception {
    String source =
        Files.readString(Path.of("src/test/java/dev/eventscan/eventstore/GettingStartedTest.java"));
    String example =
        source.substring(
            source.indexOf("// README:start") + "// README:start".length(),
            source.indexOf("  // README:end"));
    assertThat(normalized(Files.readString(Path.of("README.md")))).contains(normalized(example));
  }

  private static String normalized(String text) {
    return Arrays.stream(text.split("\n"))
        .map(String::strip)
        .filter(line -> !line.isEmpty())
        .collect(Collectors.joining("\n"));
  }
}
