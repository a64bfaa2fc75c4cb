package dev.eventscan.web;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

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
    boolean allowUnauthenticated,
    Set<String> allowedHosts,
    String scanner,
    InetSocketAddress dnsResolver,
    int workerPoolSize,
    int maxRetries,
    String logLevel,
    int scansPerMinutePerClient,
    Duration sseKeepAlive,
    int sseBufferEvents,
    int maxLiveConnections,
    int maxLiveConnectionsPerClient,
    String clientAddressHeader) {

  /** Thrown for a bad setting; the message names it. */
  public static final class InvalidConfigException extends RuntimeException {
    public InvalidConfigException(String message) {
      super(message);
    }
  }

  /** Host names every deployment answers to: a DNS-rebinding page can never send these. */
  static final Set<String> LOOPBACK_HOSTS = Set.of("localhost", "127.0.0.1", "::1");

  public static Config fromEnvironment(Map<String, String> env) {
    String bindAddress = env.getOrDefault("BIND_ADDRESS", "127.0.0.1").strip();
    String apiToken = blankToNull(env.get("API_TOKEN"));
    boolean allowUnauthenticated = booleanValue(env, "ALLOW_UNAUTHENTICATED");
    if (apiToken == null && !allowUnauthenticated && !isLoopback(bindAddress)) {
      throw new InvalidConfigException(
          "BIND_ADDRESS "
              + bindAddress
              + " is reachable from other machines, so API_TOKEN must be set (anyone who can"
              + " reach the port could otherwise start, cancel and reset work); set"
              + " ALLOW_UNAUTHENTICATED=true only if something in front of the service"
              + " authenticates requests");
    }
    if (apiToken != null && apiToken.length() < 16) {
      throw new InvalidConfigException("API_TOKEN must be at least 16 characters");
    }
    return new Config(
        intValue(env, "PORT", 8080, 0, 65535),
        bindAddress,
        Path.of(env.getOrDefault("DATA_DIR", "data")),
        blankToNull(env.get("DATABASE_URL")),
        apiToken,
        allowUnauthenticated,
        allowedHosts(env.get("ALLOWED_HOSTS"), bindAddress),
        oneOf(env, "SCANNER", "simulated", "simulated", "dns"),
        resolver(env.getOrDefault("DNS_RESOLVER", "1.1.1.1:53")),
        intValue(env, "WORKER_POOL_SIZE", 8, 1, 1_024),
        intValue(env, "MAX_RETRIES", 3, 0, 10),
        oneOf(env, "LOG_LEVEL", "info", "trace", "debug", "info", "warn", "error"),
        intValue(env, "SCAN_RATE_LIMIT_PER_MINUTE", 120, 1, 1_000_000),
        // Capped below Jetty's 30 s idle timeout, which would otherwise close quiet streams.
        Duration.ofSeconds(intValue(env, "SSE_KEEPALIVE_SECONDS", 15, 1, 25)),
        intValue(env, "SSE_BUFFER_EVENTS", 4_096, 16, 1_000_000),
        intValue(env, "MAX_LIVE_CONNECTIONS", 500, 1, 100_000),
        intValue(env, "MAX_LIVE_CONNECTIONS_PER_CLIENT", 20, 1, 100_000),
        headerName(env, "CLIENT_ADDRESS_HEADER"));
  }

  private static String headerName(Map<String, String> env, String name) {
    String value = blankToNull(env.get(name));
    if (value != null && !value.matches("[A-Za-z0-9-]{1,64}")) {
      throw new InvalidConfigException(
          name + " must be an HTTP header name such as X-Real-IP, got '" + value + "'");
    }
    return value;
  }

  /** True when the token check applies: a token is configured. */
  boolean tokenRequired() {
    return apiToken != null;
  }

  static boolean isLoopback(String bindAddress) {
    String host = bindAddress.startsWith("[") ? bindAddress.replaceAll("^\\[|]$", "") : bindAddress;
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    // Only literal addresses: a name could resolve anywhere, and no lookup happens here.
    if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) {
      return false;
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /**
   * The Host header values accepted: loopback names, the bind address when it is a specific one,
   * and {@code ALLOWED_HOSTS} (comma-separated names, {@code *} for any). Ports are not compared:
   * the name is what a DNS-rebinding attack controls.
   */
  private static Set<String> allowedHosts(String configured, String bindAddress) {
    Set<String> hosts = new LinkedHashSet<>(LOOPBACK_HOSTS);
    if (!bindAddress.equals("0.0.0.0") && !bindAddress.equals("::")) {
      hosts.add(normalizeHost(bindAddress));
    }
    if (configured != null) {
      for (String entry : configured.split(",")) {
        String host = normalizeHost(entry.strip());
        if (host.isEmpty()) {
          continue;
        }
        if (!host.equals("*") && !host.matches("[a-z0-9.-]+|[0-9a-f:]+")) {
          throw new InvalidConfigException(
              "ALLOWED_HOSTS must be comma-separated host names without ports, got '"
                  + entry.strip()
                  + "'");
        }
        hosts.add(host);
      }
    }
    return Set.copyOf(hosts);
  }

  /** Lower case, no IPv6 brackets, no trailing dot: {@code "[::1]"} and {@code "::1"} match. */
  static String normalizeHost(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }

  private static boolean booleanValue(Map<String, String> env, String name) {
    String text = env.getOrDefault(name, "false").strip().toLowerCase(Locale.ROOT);
    return switch (text) {
      case "true" -> true;
      case "false", "" -> false;
      default ->
          throw new InvalidConfigException(name + " must be true or false, got '" + text + "'");
    };
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
