package dev.eventscan.web;

import io.javalin.http.Context;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Set;

/**
 * Runs before every route: who may ask, and how. A browser page on another site can make a
 * visitor's browser send requests to this service (on 127.0.0.1 too); the guard makes sure such a
 * request changes nothing and reads nothing private:
 *
 * <ul>
 *   <li>the {@code Host} must be one of ours, so a DNS-rebinding page (its own name pointing at
 *       127.0.0.1) is refused before anything runs (421);
 *   <li>a mutation must come from our own origin (no cross-site {@code Origin} or {@code
 *       Sec-Fetch-Site}, 403) and carry {@code Content-Type: application/json} (415): a cross-site
 *       page cannot send that type without a CORS preflight, which we never approve;
 *   <li>with {@code API_TOKEN} set, mutations and the operational reads that show internals need
 *       {@code Authorization: Bearer <token>} (401).
 * </ul>
 */
final class RequestGuard {
  /** Reads that expose internals (stack traces, hosts, process ids, JVM figures). */
  private static final Set<String> PROTECTED_READS = Set.of("/api/events/failures", "/metrics");

  /** A parked failure's detail carries its stack trace. */
  private static final String PROTECTED_PREFIX = "/api/events/failures/";

  private final Set<String> allowedHosts;
  private final byte[] expectedAuthorization;

  RequestGuard(Config config) {
    this.allowedHosts = config.allowedHosts();
    this.expectedAuthorization =
        config.apiToken() == null
            ? null
            : ("Bearer " + config.apiToken()).getBytes(StandardCharsets.UTF_8);
  }

  void check(Context ctx) {
    checkHost(ctx);
    QueryParams.validate(ctx);
    if (isMutating(ctx)) {
      checkSameOrigin(ctx);
      if (!authorized(ctx)) {
        throw unauthorized();
      }
      requireJsonContentType(ctx);
    } else if (isProtectedRead(ctx.path()) && !authorized(ctx)) {
      throw unauthorized();
    }
  }

  /** True when no token is configured, or the request carries it. */
  boolean authorized(Context ctx) {
    if (expectedAuthorization == null) {
      return true;
    }
    String header = ctx.header("Authorization");
    // Constant time: the comparison must not reveal how much of a guess was right.
    return header != null
        && MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8), expectedAuthorization);
  }

  static boolean isProtectedRead(String path) {
    return PROTECTED_READS.contains(path) || path.startsWith(PROTECTED_PREFIX);
  }

  static boolean isMutating(Context ctx) {
    return switch (ctx.method().name()) {
      case "GET", "HEAD", "OPTIONS" -> false;
      default -> true;
    };
  }

  private void checkHost(Context ctx) {
    if (allowedHosts.contains("*")) {
      return;
    }
    String host = hostOf(ctx.header("Host"));
    if (host == null) {
      throw new ApiException(400, "missing_host", "send a Host header naming this service");
    }
    if (!allowedHosts.contains(host)) {
      throw new ApiException(
          421,
          "unknown_host",
          "this service does not answer to the host name '"
              + abbreviate(host)
              + "'; add it to ALLOWED_HOSTS if it is really this service's name");
    }
  }

  private static void checkSameOrigin(Context ctx) {
    String site = ctx.header("Sec-Fetch-Site");
    if (site != null
        && (site.equalsIgnoreCase("cross-site") || site.equalsIgnoreCase("same-site"))) {
      throw crossSite();
    }
    String origin = ctx.header("Origin");
    if (origin == null) {
      return; // not sent by a browser page (curl, the CLI), or a same-origin GET-style navigation
    }
    if (!sameOrigin(origin, ctx.header("Host"))) {
      throw crossSite();
    }
  }

  /** The Origin names the same host and port as the Host header (scheme default ports count). */
  static boolean sameOrigin(String origin, String hostHeader) {
    try {
      URI uri = new URI(origin);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (uri.getHost() == null || !(scheme.equals("http") || scheme.equals("https"))) {
        return false; // "null" (sandboxed frames, file: pages) and anything odd
      }
      int defaultPort = scheme.equals("https") ? 443 : 80;
      int originPort = uri.getPort() < 0 ? defaultPort : uri.getPort();
      URI host = new URI("http://" + hostHeader);
      int hostPort = host.getPort() < 0 ? defaultPort : host.getPort();
      return host.getHost() != null
          && Config.normalizeHost(uri.getHost()).equals(Config.normalizeHost(host.getHost()))
          && originPort == hostPort;
    } catch (URISyntaxException | RuntimeException e) {
      return false;
    }
  }

  /** The host name of a Host header, normalized, without the port; null when there is none. */
  static String hostOf(String hostHeader) {
    if (hostHeader == null || hostHeader.isBlank()) {
      return null;
    }
    String value = hostHeader.strip();
    int end;
    if (value.startsWith("[")) {
      end = value.indexOf(']') + 1;
      if (end == 0) {
        return value.toLowerCase(Locale.ROOT); // never matches an allowed host
      }
    } else {
      end = value.lastIndexOf(':') < 0 ? value.length() : value.lastIndexOf(':');
    }
    return Config.normalizeHost(value.substring(0, end));
  }

  /**
   * Mutations take JSON, body or not: {@code text/plain}, form and multipart bodies are what a
   * cross-site form or a "simple" cross-site fetch can send without asking first.
   */
  private static void requireJsonContentType(Context ctx) {
    String type = ctx.header("Content-Type");
    String mediaType = type == null ? "" : type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    if (!mediaType.equals("application/json")) {
      throw new ApiException(
          415, "unsupported_media_type", "send requests that change something as application/json");
    }
  }

  private static ApiException unauthorized() {
    return new ApiException(401, "unauthorized", "send Authorization: Bearer <API_TOKEN>");
  }

  private static ApiException crossSite() {
    return new ApiException(
        403,
        "cross_site_request",
        "requests that change something must come from this service's own pages");
  }

  private static String abbreviate(String text) {
    return text.length() > 60 ? text.substring(0, 60) + "..." : text;
  }
}
