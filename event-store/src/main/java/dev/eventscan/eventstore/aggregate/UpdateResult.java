package dev.eventscan.eventstore.aggregate;

import java.util.List;

/**
 * What {@link AggregateRepository#update} did: the aggregate afterwards, and the events the
 * decision produced and the store appended (empty when the decision produced none).
 */
public record UpdateResult<S, E>(Aggregate<S> aggregate, List<E> appended) {
  public UpdateResult {
    appended = List.copyOf(appended);
  }

  /** The aggregate's state after the update. */
  public S state() {
    return aggregate.state();
  }

  /** The stream's version after the update. */
  public long version() {
    return aggregate.version();
  }
}
