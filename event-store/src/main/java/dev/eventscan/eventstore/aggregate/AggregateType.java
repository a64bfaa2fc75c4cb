package dev.eventscan.eventstore.aggregate;

import dev.eventscan.eventstore.snapshot.SnapshotPolicy;

/**
 * What the repository needs to know about one kind of aggregate: plain functions, no reflection.
 * The state is a fold of the events; {@link #apply} must be pure and total over the aggregate's
 * events (a sealed event interface with {@code instanceof} patterns is the model).
 *
 * @param <S> the state; a record is the natural choice, and snapshots store it as JSON
 * @param <E> the aggregate's event type, usually a sealed interface
 */
public interface AggregateType<S, E> {
  /** The stream category: aggregate {@code id} lives in stream {@code category-id}. */
  String category();

  /** The state before any event. */
  S initialState(String id);

  /** The state after one more event. */
  S apply(S state, E event);

  Class<S> stateType();

  Class<E> eventType();

  /** When to snapshot; {@link SnapshotPolicy#NEVER} by default. */
  default SnapshotPolicy snapshotPolicy() {
    return SnapshotPolicy.NEVER;
  }

  /**
   * The version of the state's JSON shape. Bump it when the state changes incompatibly: older
   * snapshots are then ignored and replaced.
   */
  default int snapshotSchemaVersion() {
    return 1;
  }

  default String streamId(String id) {
    return category() + "-" + id;
  }

  /** An aggregate type from functions; snapshots off (implement the interface to set a policy). */
  static <S, E> AggregateType<S, E> of(
      String category,
      Class<S> stateType,
      Class<E> eventType,
      java.util.function.Function<String, S> initialState,
      java.util.function.BiFunction<S, E, S> apply) {
    java.util.Objects.requireNonNull(category, "category");
    java.util.Objects.requireNonNull(initialState, "initialState");
    java.util.Objects.requireNonNull(apply, "apply");
    return new AggregateType<>() {
      @Override
      public String category() {
        return category;
      }

      @Override
      public S initialState(String id) {
        return initialState.apply(id);
      }

      @Override
      public S apply(S state, E event) {
        return apply.apply(state, event);
      }

      @Override
      public Class<S> stateType() {
        return stateType;
      }

      @Override
      public Class<E> eventType() {
        return eventType;
      }
    };
  }
}
