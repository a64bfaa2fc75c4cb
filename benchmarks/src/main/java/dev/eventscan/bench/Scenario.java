package dev.eventscan.bench;

/** One benchmark; prints as {@code BENCH <name> <result>}. */
interface Scenario {
  String name();

  /** Creates what every run needs (tables, data); runs once per benchmark process. */
  default void prepare(BenchmarkDatabase database) throws Exception {}

  /**
   * Measures and returns the result part of the BENCH line, e.g. {@code ours=1 limit=2 ratio=0.5}.
   */
  String run(BenchmarkDatabase database) throws Exception;
}
