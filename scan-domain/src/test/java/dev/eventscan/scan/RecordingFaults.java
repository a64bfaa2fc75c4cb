package dev.eventscan.scan;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * Makes appends of chosen event types fail inside PostgreSQL, as a database blip would: a trigger
 * on the store's events table raises for a share of the rows, up to a budget. The count of injected
 * failures lives in a sequence, which a rolled-back append cannot undo.
 */
final class RecordingFaults {
  private final DataSource dataSource;

  private RecordingFaults(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  static RecordingFaults install(DataSource dataSource, String storeSchema) {
    execute(
        dataSource,
        """
        CREATE TABLE IF NOT EXISTS public.recording_fault_plan (
            event_types text[] NOT NULL, probability float8 NOT NULL, budget bigint NOT NULL);
        CREATE SEQUENCE IF NOT EXISTS public.recording_faults_tried;
        CREATE OR REPLACE FUNCTION public.inject_recording_fault() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
          plan public.recording_fault_plan;
        BEGIN
          SELECT * INTO plan FROM public.recording_fault_plan
           WHERE NEW.type = ANY (event_types) LIMIT 1;
          IF FOUND AND random() < plan.probability THEN
            IF nextval('public.recording_faults_tried') <= plan.budget THEN
              RAISE EXCEPTION 'injected recording failure for %%', NEW.type;
            END IF;
          END IF;
          RETURN NEW;
        END $$;
        CREATE OR REPLACE TRIGGER inject_recording_fault BEFORE INSERT ON %s.events
            FOR EACH ROW EXECUTE FUNCTION public.inject_recording_fault();
        """
            .formatted(storeSchema));
    return new RecordingFaults(dataSource);
  }

  /** From now on, appends of these types fail with {@code probability}, {@code budget} times. */
  RecordingFaults fail(double probability, long budget, String... eventTypes) {
    execute(
        dataSource,
        """
        DELETE FROM public.recording_fault_plan;
        SELECT setval('public.recording_faults_tried', 1, false);
        INSERT INTO public.recording_fault_plan VALUES ('{%s}', %s, %d);
        """
            .formatted(String.join(",", eventTypes), probability, budget));
    return this;
  }

  void stop() {
    execute(dataSource, "DELETE FROM public.recording_fault_plan");
  }

  /** How many appends failed on purpose since the last {@link #fail}. */
  long injected() {
    try (Connection c = dataSource.getConnection();
        Statement select = c.createStatement();
        ResultSet row =
            select.executeQuery(
                """
                SELECT CASE WHEN s.is_called THEN least(s.last_value, p.budget) ELSE 0 END
                  FROM public.recording_faults_tried s, public.recording_fault_plan p
                """)) {
      return row.next() ? row.getLong(1) : 0;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static void execute(DataSource dataSource, String sql) {
    try (Connection c = dataSource.getConnection();
        Statement statement = c.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }
}
