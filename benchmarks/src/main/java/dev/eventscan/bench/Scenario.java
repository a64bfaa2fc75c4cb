package dev.eventscan.bench;

/**
 * One benchmark: the same work done through our library and through plain JDBC on the same table
 * shape (the limit). Runs are interleaved, ours then limit, so machine noise hits both.
 */
interface Scenario {
  String name();

  /** Creates what every run needs (tables, data); runs once per benchmark process. */
  default void prepare(BenchmarkDatabase database) throws Exception {}

  /** Our library: events (or other units) per second. */
  double runOurs(BenchmarkDatabase database) throws Exception;

  /** Plain JDBC: events (or other units) per second. */
  double runLimit(BenchmarkDatabase database) throws Exception;
}
