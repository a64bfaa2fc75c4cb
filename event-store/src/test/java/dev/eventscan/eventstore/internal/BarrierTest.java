package dev.eventscan.eventstore.internal;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class BarrierTest {
  /**
   * Subscriptions and the live feed ask whether events are held back at every wake-up. Without
   * fresh statistics the planner guessed a third of the log at or above the barrier and scanned the
   * table for the first one (42 ms a call in the scan pipeline, growing with the log). It must read
   * only the end of the global-order index, whatever the statistics say.
   */
  @Test
  void asking_whether_events_are_held_back_does_not_read_the_log(TestDatabase database)
      throws Exception {
    EventStore store = EventStore.builder(database.dataSource()).build();
    for (int batch = 0; batch < 50; batch++) {
      List<EventData> events = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        events.add(event("Filled", i));
      }
      store.append(newStreamId("fill"), ExpectedVersion.noStream(), events);
    }
    try (Connection c = database.openUnpooledConnection();
        Statement s = c.createStatement()) {
      try (ResultSet plan =
          s.executeQuery(
              "EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) SELECT "
                  + Barrier.eventsHeldBack("event_store"))) {
        StringBuilder text = new StringBuilder();
        while (plan.next()) {
          text.append(plan.getString(1)).append('\n');
        }
        assertThat(text.toString()).doesNotContain("Seq Scan");
        assertThat(sharedBuffersTouched(text.toString())).as(text.toString()).isLessThan(20);
      }
    }
    store.close();
  }

  private static int sharedBuffersTouched(String plan) {
    int most = 0;
    for (String line : plan.substring(0, plan.indexOf("Planning")).split("\n")) {
      java.util.regex.Matcher hit =
          java.util.regex.Pattern.compile("shared hit=(\\d+)").matcher(line);
      if (hit.find()) {
        most = Math.max(most, Integer.parseInt(hit.group(1)));
      }
    }
    return most;
  }
}
