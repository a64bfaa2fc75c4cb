package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.InvalidInputException;

/**
 * What the writer believes about a stream's version before appending. A stream's version is the
 * number of events in it: a stream that was never written has version 0.
 */
public sealed interface ExpectedVersion {
  /** No check: append whatever the version is. */
  static ExpectedVersion any() {
    return Any.INSTANCE;
  }

  /** The stream must not exist yet (version 0). */
  static ExpectedVersion noStream() {
    return NoStream.INSTANCE;
  }

  /** The stream must have at least one event. */
  static ExpectedVersion streamExists() {
    return StreamExists.INSTANCE;
  }

  /** The stream must be at exactly this version (0 for a stream that does not exist). */
  static ExpectedVersion exactly(long version) {
    return new Exactly(version);
  }

  /**
   * The lowest stream version (0: no stream yet) this expectation accepts. With {@link
   * #highestVersion()} this is the one definition of the rule: the database's append statement
   * checks the stream's version against the same range.
   */
  long lowestVersion();

  /** The highest stream version this expectation accepts ({@link Long#MAX_VALUE}: no bound). */
  long highestVersion();

  /** Whether a stream at {@code actualVersion} satisfies this expectation. */
  default boolean matches(long actualVersion) {
    return lowestVersion() <= actualVersion && actualVersion <= highestVersion();
  }

  record Any() implements ExpectedVersion {
    private static final Any INSTANCE = new Any();

    @Override
    public long lowestVersion() {
      return 0;
    }

    @Override
    public long highestVersion() {
      return Long.MAX_VALUE;
    }

    @Override
    public String toString() {
      return "any";
    }
  }

  record NoStream() implements ExpectedVersion {
    private static final NoStream INSTANCE = new NoStream();

    @Override
    public long lowestVersion() {
      return 0;
    }

    @Override
    public long highestVersion() {
      return 0;
    }

    @Override
    public String toString() {
      return "no stream";
    }
  }

  record StreamExists() implements ExpectedVersion {
    private static final StreamExists INSTANCE = new StreamExists();

    @Override
    public long lowestVersion() {
      return 1;
    }

    @Override
    public long highestVersion() {
      return Long.MAX_VALUE;
    }

    @Override
    public String toString() {
      return "stream exists";
    }
  }

  record Exactly(long version) implements ExpectedVersion {
    public Exactly {
      if (version < 0) {
        throw new InvalidInputException("expected version must be >= 0, got " + version);
      }
    }

    @Override
    public long lowestVersion() {
      return version;
    }

    @Override
    public long highestVersion() {
      return version;
    }

    @Override
    public String toString() {
      return "version " + version;
    }
  }
}
