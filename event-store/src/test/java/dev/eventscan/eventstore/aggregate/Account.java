package dev.eventscan.eventstore.aggregate;

import dev.eventscan.eventstore.serialization.EventTypeRegistry;
import dev.eventscan.eventstore.snapshot.SnapshotPolicy;
import java.util.ArrayList;
import java.util.List;

/** A small example aggregate for the tests: a bank account. */
final class Account {
  private Account() {}

  sealed interface Event permits Opened, Deposited, Withdrawn {}

  record Opened(String owner) implements Event {}

  record Deposited(long amount, String commandId) implements Event {}

  record Withdrawn(long amount, String commandId) implements Event {}

  record State(String id, String owner, long balance, List<String> commands, int events) {
    State {
      commands = List.copyOf(commands);
    }
  }

  static final class InsufficientFunds extends RuntimeException {
    InsufficientFunds(long balance, long amount) {
      super("balance " + balance + " does not cover " + amount);
    }
  }

  static EventTypeRegistry registry() {
    return new EventTypeRegistry()
        .register("AccountOpened", Opened.class)
        .register("MoneyDeposited", Deposited.class)
        .register("MoneyWithdrawn", Withdrawn.class);
  }

  static Decision<State, Event> open(String owner) {
    return state -> state.owner() == null ? List.of(new Opened(owner)) : List.of();
  }

  static Decision<State, Event> deposit(long amount, String commandId) {
    return state ->
        state.commands().contains(commandId)
            ? List.of()
            : List.of(new Deposited(amount, commandId));
  }

  static Decision<State, Event> withdraw(long amount, String commandId) {
    return state -> {
      if (state.commands().contains(commandId)) {
        return List.of();
      }
      if (state.balance() < amount) {
        throw new InsufficientFunds(state.balance(), amount);
      }
      return List.of(new Withdrawn(amount, commandId));
    };
  }

  static AggregateType<State, Event> type(SnapshotPolicy policy, int snapshotSchemaVersion) {
    return new AggregateType<>() {
      @Override
      public String category() {
        return "account";
      }

      @Override
      public State initialState(String id) {
        return new State(id, null, 0, List.of(), 0);
      }

      @Override
      public State apply(State state, Event event) {
        List<String> commands = new ArrayList<>(state.commands());
        long balance = state.balance();
        String owner = state.owner();
        if (event instanceof Opened opened) {
          owner = opened.owner();
        } else if (event instanceof Deposited deposited) {
          balance += deposited.amount();
          commands.add(deposited.commandId());
        } else if (event instanceof Withdrawn withdrawn) {
          balance -= withdrawn.amount();
          commands.add(withdrawn.commandId());
        }
        return new State(state.id(), owner, balance, commands, state.events() + 1);
      }

      @Override
      public Class<State> stateType() {
        return State.class;
      }

      @Override
      public Class<Event> eventType() {
        return Event.class;
      }

      @Override
      public SnapshotPolicy snapshotPolicy() {
        return policy;
      }

      @Override
      public int snapshotSchemaVersion() {
        return snapshotSchemaVersion;
      }
    };
  }
}
