package dev.eventscan.web;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The console commands of the event-architecture seed, run against a running service over its HTTP
 * API (so they never compete with it for the database): {@code replay} and {@code monitor}.
 */
final class Cli {
  static final String HELP =
      """
      usage: java -jar web-service.jar <command> [options]

        replay   [--projection NAME] [--from POSITION] [--dry-run]
                 rebuild a projection (default scan-read-models) from the start, or replay it
                 from a position; --dry-run reports what would be replayed
        monitor  [--stats] [--failures] [--projections] [--subscriptions] [--watch]
                 print the overview (default) or the chosen sections; --subscriptions shows
                 each subscription's segments with owner node, state, lag and position, the
                 live member nodes and the node that answered; --watch repeats every 2 s

      options for every command:
        --url URL      the service (default http://127.0.0.1:8080, or $EVENTSCAN_URL)
        --token TOKEN  the API token, when the service requires one (or $API_TOKEN)
        --help         this text
      """;

  private Cli() {}

  static int run(List<String> args, PrintStream out, PrintStream err) {
    List<String> rest = new ArrayList<>(args);
    String command = rest.remove(0);
    if (command.equals("--help") || rest.contains("--help")) {
      out.print(HELP);
      return 0;
    }
    String url =
        option(
            rest, "--url", System.getenv().getOrDefault("EVENTSCAN_URL", "http://127.0.0.1:8080"));
    String token = option(rest, "--token", System.getenv("API_TOKEN"));
    Client client = new Client(url, token);
    try {
      return switch (command) {
        case "replay" -> replay(client, rest, out);
        case "monitor" -> monitor(client, rest, out);
        default -> {
          err.println("unknown command '" + command + "'\n" + HELP);
          yield 2;
        }
      };
    } catch (UsageException e) {
      err.println(e.getMessage() + "\n" + HELP);
      return 2;
    } catch (Exception e) {
      err.println("error: " + e.getMessage());
      return 1;
    }
  }

  private static int replay(Client client, List<String> rest, PrintStream out) throws Exception {
    String projection = option(rest, "--projection", "scan-read-models");
    String from = option(rest, "--from", null);
    boolean dryRun = rest.remove("--dry-run");
    requireEmpty(rest);
    StringBuilder query = new StringBuilder();
    if (from != null) {
      query.append(query.isEmpty() ? "?" : "&").append("from=").append(encode(from));
    }
    if (dryRun) {
      query.append(query.isEmpty() ? "?" : "&").append("dryRun=true");
    }
    JsonNode result =
        client.post("/api/events/projections/" + encode(projection) + "/rebuild" + query);
    out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(result));
    return 0;
  }

  private static int monitor(Client client, List<String> rest, PrintStream out) throws Exception {
    boolean stats = rest.remove("--stats");
    boolean failures = rest.remove("--failures");
    boolean projections = rest.remove("--projections");
    boolean subscriptions = rest.remove("--subscriptions");
    boolean watch = rest.remove("--watch");
    requireEmpty(rest);
    boolean overview = !stats && !failures && !projections && !subscriptions;
    do {
      if (overview) {
        JsonNode o = client.get("/api/events/overview");
        out.printf(
            "events %s (today %s)  streams %s  open failures %s  head %s%n",
            o.get("totalEvents"),
            o.get("eventsToday"),
            o.get("streams"),
            o.get("openFailures"),
            o.get("head").asText());
      }
      if (stats) {
        for (JsonNode type : client.get("/api/events/statistics").get("byType")) {
          out.printf("%-32s %10s%n", type.get("name").asText(), type.get("count"));
        }
      }
      if (projections) {
        for (JsonNode p : client.get("/api/events/projections").get("projections")) {
          out.printf(
              "%-24s %-11s lag %-8s at %s%n",
              p.get("name").asText(),
              p.get("state").asText(),
              p.get("lag"),
              p.get("position").asText());
        }
      }
      if (subscriptions) {
        printSubscriptions(client.get("/api/subscriptions"), out);
      }
      if (failures) {
        for (JsonNode f : client.get("/api/events/failures?status=open").get("failures")) {
          out.printf(
              "#%s %s %s: %s (%s attempts)%n",
              f.get("id"),
              f.get("subscription").asText(),
              f.get("eventType").asText(),
              f.get("errorMessage").asText(),
              f.get("attempts"));
        }
      }
      if (watch) {
        Thread.sleep(2_000);
        out.println();
      }
    } while (watch);
    return 0;
  }

  /** Owners and the answering node are shown only with the token (they name hosts). */
  private static void printSubscriptions(JsonNode body, PrintStream out) {
    out.printf("answered by node %s%n", body.path("node").asText("(hidden: no token)"));
    for (JsonNode subscription : body.get("subscriptions")) {
      out.printf(
          "%s  segments %s  max lag %s%n",
          subscription.get("name").asText(),
          subscription.get("segmentCount"),
          subscription.get("maxLag"));
      for (JsonNode member : subscription.path("members")) {
        out.printf(
            "  member %s  last heard %s%n",
            member.get("node").asText(), member.get("lastHeardAt").asText());
      }
      for (JsonNode segment : subscription.get("segments")) {
        out.printf(
            "  #%-3s %-12s lag %-8s at %-16s owner %s%n",
            segment.get("index"),
            segment.get("state").asText(),
            segment.get("lag"),
            segment.get("position").asText(),
            segment.path("owner").asText("-"));
      }
    }
  }

  private static String option(List<String> rest, String name, String fallback) {
    int index = rest.indexOf(name);
    if (index < 0) {
      return fallback;
    }
    if (index + 1 >= rest.size()) {
      throw new UsageException(name + " needs a value");
    }
    rest.remove(index);
    return rest.remove(index);
  }

  private static void requireEmpty(List<String> rest) {
    if (!rest.isEmpty()) {
      throw new UsageException("unknown arguments " + rest);
    }
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }

  private static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }

  /** A tiny JSON client for the service's API. */
  private record Client(String url, String token) {
    private static final HttpClient HTTP =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    JsonNode get(String path) throws Exception {
      return send(HttpRequest.newBuilder(URI.create(url + path)).GET());
    }

    /** The service takes changes only as JSON, body or not. */
    JsonNode post(String path) throws Exception {
      return send(
          HttpRequest.newBuilder(URI.create(url + path))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.noBody()));
    }

    private JsonNode send(HttpRequest.Builder request) throws Exception {
      if (token != null) {
        request.header("Authorization", "Bearer " + token);
      }
      HttpResponse<String> response =
          HTTP.send(
              request.timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofString());
      JsonNode body = Json.MAPPER.readTree(response.body());
      if (response.statusCode() >= 400) {
        throw new IllegalStateException(body.path("error").path("message").asText(response.body()));
      }
      return body;
    }
  }
}
