package dev.eventscan.web;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The service's settings, from environment variables with defaults. A bad value stops start-up with
 * a message naming the variable.
 */
public record Config(
    int port,
    String bindAddress,
    Path dataDir,
    String databaseUrl,
    String apiToken,
    String scanner,
    InetSocketAddress dnsResolver,
    int workerPoolSize,
    int maxRetries,
    String logLevel,
    int scansPerMinutePerClient,
    Duration sseKeepAlive) {

  /** Thrown for a bad setting; the message names it. */
  public static final class InvalidConfigException extends RuntimeException {
    public InvalidConfigException(String message) {
      super(message);
    }
  }

  public static Config fromEnvironment(Map<String, String> env) {
    return new Config(
        intValue(env, "PORT", 8080, 0, 65535),
        env.getOrDefault("BIND_ADDRESS", "127.0.0.1"),
        Path.of(env.getOrDefault("DATA_DIR", "data")),
        blankToNull(env.get("DATABASE_URL")),
        blankToNull(env.get("API_TOKEN")),
        oneOf(env, "SCANNER", "simulated", "simulated", "dns"),
        resolver(env.getOrDefault("DNS_RESOLVER", "1.1.1.1:53")),
        intValue(env, "WORKER_POOL_SIZE", 8, 1, 256),
        intValue(env, "MAX_RETRIES", 3, 0, 10),
        oneOf(env, "LOG_LEVEL", "info", "trace", "debug", "info", "warn", "error"),
        intValue(env, "SCAN_RATE_LIMIT_PER_MINUTE", 120, 1, 1_000_000),
        // Capped below Jetty's 30 s idle timeout, which would otherwise close quiet streams.
        Duration.ofSeconds(intValue(env, "SSE_KEEPALIVE_SECONDS", 15, 1, 25)));
  }

  private static int intValue(
      Map<String, String> env, String name, int fallback, int min, int max) {
    String text = env.get(name);
    if (text == null || text.isBlank()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(text.strip());
      if (value < min || value > max) {
        throw new InvalidConfigException(
            name + " must be between " + min + " and " + max + ", got " + text);
      }
      return value;
    } catch (NumberFormatException e) {
      throw new InvalidConfigException(name + " must be a whole number, got '" + text + "'");
    }
  }

  private static String oneOf(
      Map<String, String> env, String name, String fallback, String... allowed) {
    String value = env.getOrDefault(name, fallback).strip().toLowerCase(Locale.ROOT);
    for (String candidate : allowed) {
      if (candidate.equals(value)) {
        return value;
      }
    }
    throw new InvalidConfigException(
        name + " must be one of " + String.join(", ", allowed) + ", got '" + value + "'");
  }

  private static InetSocketAddress resolver(String text) {
    int colon = text.lastIndexOf(':');
    try {
      String host = colon < 0 ? text : text.substring(0, colon);
      int port = colon < 0 ? 53 : Integer.parseInt(text.substring(colon + 1));
      if (host.isBlank() || port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
      return new InetSocketAddress(host, port);
    } catch (NumberFormatException e) {
      throw new InvalidConfigException("DNS_RESOLVER must look like host:port, got '" + text + "'");
    }
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value.strip();
  }
}
