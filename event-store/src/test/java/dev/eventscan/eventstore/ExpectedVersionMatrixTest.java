package dev.eventscan.eventstore;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.events;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.StreamDeletedException;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import dev.eventscan.testsupport.PostgresExtension;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every expected-version mode against a missing, an existing (version 2) and a deleted stream. */
@ExtendWith(PostgresExtension.class)
class ExpectedVersionMatrixTest {
  private static EventStore store;

  @BeforeAll
  static void createStore(DataSource dataSource) {
    store = EventStore.builder(dataSource).build();
  }

  enum StreamState {
    MISSING,
    EXISTING,
    DELETED
  }

  /** Outcome: the version after a successful append, or -1 conflict, or -2 deleted. */
  static Stream<Arguments> matrix() {
    return Stream.of(
        Arguments.of(StreamState.MISSING, ExpectedVersion.any(), 1L),
        Arguments.of(StreamState.MISSING, ExpectedVersion.noStream(), 1L),
        Arguments.of(StreamState.MISSING, ExpectedVersion.streamExists(), -1L),
        Arguments.of(StreamState.MISSING, ExpectedVersion.exactly(0), 1L),
        Arguments.of(StreamState.MISSING, ExpectedVersion.exactly(2), -1L),
        Arguments.of(StreamState.EXISTING, ExpectedVersion.any(), 3L),
        Arguments.of(StreamState.EXISTING, ExpectedVersion.noStream(), -1L),
        Arguments.of(StreamState.EXISTING, ExpectedVersion.streamExists(), 3L),
        Arguments.of(StreamState.EXISTING, ExpectedVersion.exactly(0), -1L),
        Arguments.of(StreamState.EXISTING, ExpectedVersion.exactly(1), -1L),
        Arguments.of(StreamState.EXISTING, ExpectedVersion.exactly(2), 3L),
        Arguments.of(StreamState.EXISTING, ExpectedVersion.exactly(3), -1L),
        Arguments.of(StreamState.DELETED, ExpectedVersion.any(), -2L),
        Arguments.of(StreamState.DELETED, ExpectedVersion.noStream(), -2L),
        Arguments.of(StreamState.DELETED, ExpectedVersion.streamExists(), -2L),
        Arguments.of(StreamState.DELETED, ExpectedVersion.exactly(0), -2L),
        Arguments.of(StreamState.DELETED, ExpectedVersion.exactly(2), -2L),
        // The tombstone is version 3: an append at it must still be refused.
        Arguments.of(StreamState.DELETED, ExpectedVersion.exactly(3), -2L));
  }

  @ParameterizedTest(name = "{1} on a {0} stream")
  @MethodSource("matrix")
  void append_honours_the_expected_version(
      StreamState state, ExpectedVersion expected, long outcome) {
    String streamId = newStreamId("matrix");
    if (state != StreamState.MISSING) {
      store.append(streamId, ExpectedVersion.noStream(), events("Seeded", 2));
    }
    if (state == StreamState.DELETED) {
      store.deleteStream(streamId, ExpectedVersion.exactly(2));
    }
    long versionBefore = state == StreamState.MISSING ? 0 : 2;

    if (outcome > 0) {
      assertThat(store.append(streamId, expected, event("Tried", 1)).streamVersion())
          .isEqualTo(outcome);
      assertThat(store.streamInfo(streamId).orElseThrow().version()).isEqualTo(outcome);
    } else if (outcome == -1) {
      assertThatThrownBy(() -> store.append(streamId, expected, event("Tried", 1)))
          .isInstanceOfSatisfying(
              WrongExpectedVersionException.class,
              e -> {
                assertThat(e.streamId()).isEqualTo(streamId);
                assertThat(e.expectedVersion()).isEqualTo(expected);
                assertThat(e.actualVersion()).isEqualTo(versionBefore);
              });
      assertThat(store.streamInfo(streamId).map(info -> info.version()).orElse(0L))
          .isEqualTo(versionBefore);
    } else {
      assertThatThrownBy(() -> store.append(streamId, expected, event("Tried", 1)))
          .isInstanceOfSatisfying(
              StreamDeletedException.class, e -> assertThat(e.streamId()).isEqualTo(streamId));
      assertThat(store.streamInfo(streamId).orElseThrow().version()).isEqualTo(2);
    }
  }
}
