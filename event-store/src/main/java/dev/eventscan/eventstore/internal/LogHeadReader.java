package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The read of readers at the log's head (the live feed's tailer, subscriptions' shared reads): the
 * next events below the transaction-id barrier, like {@code readAll}, and in the same statement (so
 * the same snapshot) whether committed events already wait at or above the barrier. Those are held
 * back by an older transaction that is still running; its commit sends no notification, so the
 * reader must look again soon rather than wait for the next append's hint.
 */
public final class LogHeadReader {
  /** A page, and whether committed events wait behind the barrier. */
  public record Page(List<RecordedEvent> events, boolean heldBack) {}

  private final DataSource dataSource;
  private final String sql;

  public LogHeadReader(DataSource dataSource, String schema) {
    this.dataSource = dataSource;
    // One row even when the page is empty (the LEFT JOIN), to carry the flag.
    this.sql =
        """
        SELECT page.*, %3$s
          FROM (SELECT 1) AS one
          LEFT JOIN (SELECT %2$s, transaction_id AS in_order FROM %1$s.events
                      WHERE (transaction_id, id) > (?::text::xid8, ?)
                        AND transaction_id < %4$s
                      ORDER BY transaction_id, id
                      LIMIT ?) AS page ON true
         ORDER BY page.in_order, page.id
        """
            .formatted(schema, EventRows.COLUMNS, Barrier.eventsHeldBack(schema), Barrier.SQL);
  }

  public Page next(Position after, int maxCount) {
    return Jdbc.withConnection(
        dataSource,
        "read the live log",
        c -> {
          try (PreparedStatement statement = c.prepareStatement(sql)) {
            statement.setString(1, after.transactionIdText());
            statement.setLong(2, after.eventId());
            statement.setInt(3, maxCount);
            try (ResultSet rows = statement.executeQuery()) {
              List<RecordedEvent> events = new ArrayList<>();
              boolean heldBack = false;
              int flag = rows.getMetaData().getColumnCount();
              while (rows.next()) {
                heldBack = rows.getBoolean(flag);
                if (rows.getObject(1) != null) {
                  events.add(EventRows.map(rows));
                }
              }
              return new Page(events, heldBack);
            }
          }
        });
  }
}
