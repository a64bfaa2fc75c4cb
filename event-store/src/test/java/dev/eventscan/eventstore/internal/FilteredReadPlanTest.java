package dev.eventscan.eventstore.internal;

import static dev.eventscan.eventstore.Events.event;
import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A filtered read must walk the global-order index to its page whatever the statistics say. On a
 * database autovacuum had not analyzed yet, PostgreSQL guessed that {@code category = ANY(...)}
 * keeps 0.5% of the events and planned a catch-up read as a bitmap scan of every event after the
 * position plus a sort: 13-90 ms a call in the scan pipeline instead of well under one.
 */
@ExtendWith(PostgresExtension.class)
class FilteredReadPlanTest {
  private static final int EVENTS = 20_000;

  @BeforeAll
  static void fill(TestDatabase database) {
    try (EventStore store = EventStore.builder(database.dataSource()).build()) {
      for (int stream = 0; stream < EVENTS / 200; stream++) {
        List<EventData> events = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          events.add(event(i % 50 == 0 ? "Rare" : "Common", i));
        }
        String category = stream % 10 == 0 ? "other" : "scan";
        store.append(category + "-" + stream, ExpectedVersion.noStream(), events);
      }
    }
  }

  @Test
  void a_category_filtered_catch_up_page_reads_only_its_part_of_the_log_without_statistics(
      TestDatabase database) throws Exception {
    List<String> plans =
        plansOf(
            database,
            reader -> reader.readAll(Position.START, EventFilter.categories("scan"), 100));
    assertThat(plans).isNotEmpty().allSatisfy(FilteredReadPlanTest::readsOnlyAPage);
  }

  @Test
  void a_type_filtered_page_from_the_middle_of_the_log_reads_only_its_part_without_statistics(
      TestDatabase database) throws Exception {
    JdbcGlobalLogReader plain = new JdbcGlobalLogReader(database.dataSource(), "event_store");
    Position middle = plain.readAll(Position.START, EventFilter.all(), EVENTS / 2).next();
    List<String> plans =
        plansOf(database, reader -> reader.readAll(middle, EventFilter.types("Common"), 100));
    assertThat(plans).isNotEmpty().allSatisfy(FilteredReadPlanTest::readsOnlyAPage);
  }

  @Test
  void the_pages_of_a_filtered_read_hold_exactly_the_wanted_events_in_order(TestDatabase database) {
    JdbcGlobalLogReader reader = new JdbcGlobalLogReader(database.dataSource(), "event_store");
    EventFilter rareScanEvents = EventFilter.categories("scan").andTypes("Rare");
    List<Position> expected = new ArrayList<>();
    Position cursor = Position.START;
    GlobalLogPage page;
    do {
      page = reader.readAll(cursor, EventFilter.all(), 3_000);
      page.events().stream()
          .filter(rareScanEvents::matches)
          .forEach(e -> expected.add(e.position()));
      cursor = page.next();
    } while (!page.endOfLog());

    List<Position> read = new ArrayList<>();
    cursor = Position.START;
    do {
      page = reader.readAll(cursor, rareScanEvents, 7);
      assertThat(page.events()).allMatch(rareScanEvents::matches);
      assertThat(page.events().size()).isLessThanOrEqualTo(7);
      page.events().forEach(e -> read.add(e.position()));
      assertThat(page.next()).isGreaterThan(cursor);
      cursor = page.next();
    } while (!page.endOfLog());
    assertThat(read).isEqualTo(expected).hasSize(EVENTS * 9 / 10 / 50);
  }

  @Test
  void the_latest_events_of_a_rare_type_read_only_their_part_of_the_log_without_statistics(
      TestDatabase database) throws Exception {
    List<String> plans =
        plansOf(database, reader -> reader.readLatest(EventFilter.types("Rare"), 10));
    assertThat(plans).isNotEmpty().allSatisfy(FilteredReadPlanTest::readsOnlyAPage);
  }

  @Test
  void filtered_pages_read_backwards_hold_exactly_the_wanted_events(TestDatabase database) {
    JdbcGlobalLogReader reader = new JdbcGlobalLogReader(database.dataSource(), "event_store");
    EventFilter rareScanEvents = EventFilter.categories("scan").andTypes("Rare");
    List<Position> expected = new ArrayList<>();
    reader.readAll(Position.START, EventFilter.all(), EVENTS).events().stream()
        .filter(rareScanEvents::matches)
        .forEach(e -> expected.add(e.position()));

    List<Position> read = new ArrayList<>();
    Position before = Position.END;
    List<RecordedEvent> page;
    do {
      page = reader.readBackwards(before, rareScanEvents, 7);
      assertThat(page).allMatch(rareScanEvents::matches);
      page.forEach(e -> read.add(e.position()));
      before = page.isEmpty() ? before : page.get(page.size() - 1).position();
    } while (page.size() == 7);
    Collections.reverse(read);
    assertThat(read).isEqualTo(expected);
    assertThat(reader.readLatest(rareScanEvents, 3))
        .extracting(RecordedEvent::position)
        .containsExactly(
            expected.get(expected.size() - 1),
            expected.get(expected.size() - 2),
            expected.get(expected.size() - 3));
  }

  /**
   * Plans of a read's statements, executed again as {@code EXPLAIN ANALYZE} with its parameters.
   */
  private static List<String> plansOf(TestDatabase database, Consumer<JdbcGlobalLogReader> read)
      throws Exception {
    List<RecordedStatement> statements = new ArrayList<>();
    read.accept(
        new JdbcGlobalLogReader(recording(database.dataSource(), statements), "event_store"));
    List<String> plans = new ArrayList<>();
    try (Connection c = database.openUnpooledConnection()) {
      for (RecordedStatement statement : statements) {
        try (PreparedStatement explain =
            c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + statement.sql)) {
          for (Object[] call : statement.parameterCalls) {
            Method setter =
                PreparedStatement.class.getMethod((String) call[0], (Class<?>[]) call[1]);
            setter.invoke(explain, (Object[]) call[2]);
          }
          StringBuilder plan = new StringBuilder();
          try (ResultSet rows = explain.executeQuery()) {
            while (rows.next()) {
              plan.append(rows.getString(1)).append('\n');
            }
          }
          plans.add(plan.toString());
        }
      }
    }
    return plans;
  }

  private static void readsOnlyAPage(String plan) {
    assertThat(plan).as(plan).doesNotContain("Seq Scan").doesNotContain("Bitmap");
    assertThat(mostSharedBuffersTouched(plan)).as(plan).isLessThan(200);
  }

  private static int mostSharedBuffersTouched(String plan) {
    int most = 0;
    Matcher hit = Pattern.compile("shared hit=(\\d+)(?: read=(\\d+))?").matcher(plan);
    while (hit.find()) {
      int touched =
          Integer.parseInt(hit.group(1))
              + (hit.group(2) == null ? 0 : Integer.parseInt(hit.group(2)));
      most = Math.max(most, touched);
    }
    return most;
  }

  private record RecordedStatement(String sql, List<Object[]> parameterCalls) {}

  /** A data source whose prepared statements remember their SQL and parameter calls. */
  private static DataSource recording(DataSource target, List<RecordedStatement> statements) {
    InvocationHandler dataSource =
        (proxy, method, args) -> {
          Object result = invoke(method, target, args);
          if (result instanceof Connection connection) {
            return proxy(Connection.class, recordingConnection(connection, statements));
          }
          return result;
        };
    return proxy(DataSource.class, dataSource);
  }

  private static InvocationHandler recordingConnection(
      Connection connection, List<RecordedStatement> statements) {
    return (proxy, method, args) -> {
      Object result = invoke(method, connection, args);
      if (method.getName().equals("prepareStatement")) {
        RecordedStatement recorded = new RecordedStatement((String) args[0], new ArrayList<>());
        statements.add(recorded);
        PreparedStatement statement = (PreparedStatement) result;
        return proxy(
            PreparedStatement.class,
            (p, m, a) -> {
              if (m.getName().startsWith("set") && a != null && a.length >= 2) {
                Object[] values = a.clone();
                if (values[1] instanceof java.sql.Array array) {
                  values[1] = connection.createArrayOf("text", (Object[]) array.getArray());
                }
                recorded.parameterCalls.add(
                    new Object[] {m.getName(), m.getParameterTypes(), values});
              }
              return invoke(m, statement, a);
            });
      }
      return result;
    };
  }

  private static Object invoke(Method method, Object target, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> T proxy(Class<T> type, InvocationHandler handler) {
    return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler);
  }
}
