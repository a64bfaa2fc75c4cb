package dev.eventscan.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.statistics.EventStatistics;
import dev.eventscan.eventstore.stream.ReadDirection;
import dev.eventscan.eventstore.stream.StreamSlice;
import dev.eventscan.eventstore.subscription.ParkedFailure;
import dev.eventscan.eventstore.subscription.Subscriptions;
import dev.eventscan.scan.ScanModule;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Event monitoring (the event-architecture seed's paths), streams, and operations endpoints. */
final class MonitoringApi {
  private static final Logger log = LoggerFactory.getLogger(MonitoringApi.class);
  private static final String TAIL = "live-tail";

  /** The most events {@code ?tail=} sends on connect. */
  static final int MAX_TAIL = 1_000;

  private static final Set<String> FAILURE_STATUSES =
      Set.of(ParkedFailure.OPEN, ParkedFailure.RESOLVED, ParkedFailure.RETRIED);

  private final EventStore store;
  private final ScanModule scans;
  private final EventStatistics statistics;
  private final LiveHub hub;
  private final PrometheusMeterRegistry metrics;
  private final RequestGuard guard;
  private final LiveConnections liveConnections;
  private final EventRates rates;

  MonitoringApi(
      EventStore store,
      ScanModule scans,
      EventStatistics statistics,
      LiveHub hub,
      PrometheusMeterRegistry metrics,
      RequestGuard guard,
      LiveConnections liveConnections,
      EventRates rates) {
    this.rates = rates;
    this.store = store;
    this.scans = scans;
    this.statistics = statistics;
    this.hub = hub;
    this.metrics = metrics;
    this.guard = guard;
    this.liveConnections = liveConnections;
  }

  void register(RoutesConfig routes) {
    routes.get("/api/events/overview", this::overview);
    routes.get("/api/events/statistics", this::statistics);
    routes.get("/api/events/recent", this::recent);
    routes.get(
        "/api/events/projections",
        ctx -> ctx.json(Map.of("projections", scans.projections().statuses())));
    routes.get("/api/events/failures", this::failures);
    routes.get("/api/subscriptions", this::subscriptions);
    routes.post("/api/events/projections/{name}/rebuild", this::rebuild);
    routes.post("/api/events/failures/{id}/resolve", this::resolve);
    routes.post("/api/events/failures/{id}/retry", this::retry);
    routes.get("/api/streams/{streamId}", this::stream);
    routes.before(
        "/api/events/live",
        ctx -> {
          ctx.attribute(ScanApi.RESUME_AFTER, ScanApi.resumePosition(ctx, store));
          ctx.attribute(TAIL, QueryParams.intParam(ctx, "tail", 0, 0, MAX_TAIL));
          liveConnections.admit(ctx);
        });
    routes.get("/api/events/live", this::live);
    routes.get("/health", ctx -> ctx.json(Map.of("status", "up")));
    routes.get("/ready", this::ready);
    routes.get(
        "/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4").result(metrics.scrape()));
  }

  /**
   * Subscription owners ({@code pid@host}) and their last errors are internals: only a caller with
   * the token (or any caller when no token is configured) sees them.
   */
  private void overview(Context ctx) {
    ObjectNode overview = Json.MAPPER.valueToTree(statistics.overview());
    overview.put("eventsToday", rates.countSince(dayStart(ctx)));
    if (!guard.authorized(ctx)) {
      for (JsonNode subscription : overview.path("subscriptions")) {
        ((ObjectNode) subscription).remove(List.of("owner", "lastError"));
      }
    }
    ctx.json(overview);
  }

  /**
   * Per subscription its segments: state, position, lag and, for a caller with the token, the owner
   * node and last error, the live member nodes of a partitioned one, and {@code node}, the id of
   * the node that answered (as owners and members show it).
   */
  private void subscriptions(Context ctx) {
    boolean internals = guard.authorized(ctx);
    Map<String, Object> body = new LinkedHashMap<>();
    if (internals) {
      body.put("node", scans.subscriptions().node());
    }
    Subscriptions subscriptions = scans.subscriptions();
    body.put(
        "subscriptions",
        SubscriptionsView.of(subscriptions.list(), subscriptions::members, internals));
    ctx.json(body);
  }

  /**
   * {@code ?dayStart=} is the start of "today" where the reader is (the page sends its local
   * midnight); without it, midnight UTC.
   */
  private static Instant dayStart(Context ctx) {
    String text = QueryParams.optional(ctx, "dayStart");
    Instant now = Instant.now();
    if (text == null) {
      return now.truncatedTo(ChronoUnit.DAYS);
    }
    try {
      Instant start = Instant.parse(text.strip());
      if (!start.isAfter(now) && start.isAfter(now.minus(Duration.ofHours(27)))) {
        return start;
      }
    } catch (DateTimeParseException e) {
      // the same answer as out of range, below
    }
    throw ApiException.badRequest(
        "dayStart must be an ISO instant within the last 27 hours, like 2026-01-31T23:00:00Z");
  }

  /** The library's totals per type and category, and the app's counts per minute and hour. */
  private void statistics(Context ctx) {
    Instant now = Instant.now();
    var counts = statistics.statistics();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("byType", counts.byType());
    body.put("byCategory", counts.byCategory());
    body.put("perMinuteLastHour", rates.per(ChronoUnit.MINUTES, 60, now));
    body.put("perHourLastDay", rates.per(ChronoUnit.HOURS, 24, now));
    ctx.json(body);
  }

  private void recent(Context ctx) {
    int limit = QueryParams.intParam(ctx, "limit", 50, 1, 500);
    ctx.json(Map.of("events", statistics.recentEvents(limit).stream().map(Json::event).toList()));
  }

  private void failures(Context ctx) {
    String status = QueryParams.optional(ctx, "status");
    if (status != null && !FAILURE_STATUSES.contains(status)) {
      throw ApiException.badRequest("status must be one of " + FAILURE_STATUSES);
    }
    int limit = QueryParams.intParam(ctx, "limit", 100, 1, 1000);
    String subscription = QueryParams.optional(ctx, "subscription");
    List<ParkedFailure> failures =
        subscription == null
            ? statistics.failures(status, limit)
            // Few failures are kept open; the store filters by status, this by subscription.
            : statistics.failures(status, 1000).stream()
                .filter(f -> f.subscription().equals(subscription))
                .limit(limit)
                .toList();
    ctx.json(Map.of("failures", failures));
  }

  /** Rebuilds from the start; {@code ?from=POSITION} replays from there; {@code ?dryRun=true}. */
  private void rebuild(Context ctx) {
    String name = ctx.pathParam("name");
    Position from = ScanApi.resumePosition(ctx, store);
    if (QueryParams.booleanParam(ctx, "dryRun")) {
      ctx.json(scans.projections().dryRun(name, from == null ? Position.START : from));
      return;
    }
    if (from == null) {
      scans.projections().rebuild(name);
    } else {
      scans.projections().replayFrom(name, from);
    }
    ctx.status(202)
        .json(Map.of("projection", name, "state", from == null ? "rebuilding" : "replaying"));
  }

  private void resolve(Context ctx) {
    long id = failureId(ctx);
    scans.subscriptions().resolveFailure(id);
    ctx.json(Map.of("id", id, "status", ParkedFailure.RESOLVED));
  }

  private void retry(Context ctx) {
    ctx.json(scans.subscriptions().retryFailure(failureId(ctx)));
  }

  static long failureId(Context ctx) {
    try {
      return Long.parseLong(ctx.pathParam("id"));
    } catch (NumberFormatException e) {
      throw ApiException.notFound("failure " + ctx.pathParam("id") + " does not exist");
    }
  }

  private void stream(Context ctx) {
    String streamId = ctx.pathParam("streamId");
    int from = QueryParams.intParam(ctx, "from", 1, 1, Integer.MAX_VALUE);
    int limit = QueryParams.intParam(ctx, "limit", 100, 1, 1000);
    if (store.streamInfo(streamId).isEmpty()) {
      throw ApiException.notFound("stream " + streamId + " does not exist");
    }
    StreamSlice slice = store.readStream(streamId, from, limit, ReadDirection.FORWARDS);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("streamId", streamId);
    body.put("version", slice.streamVersion());
    body.put("info", store.streamInfo(streamId).map(ConsoleApi::stream).orElse(null));
    body.put("events", slice.events().stream().map(Json::eventDetail).toList());
    body.put("nextVersion", slice.endOfStream() ? null : slice.nextVersion(ReadDirection.FORWARDS));
    ctx.json(body);
  }

  private void live(Context ctx) {
    EventFilter filter = EventFilter.all();
    String category = QueryParams.optional(ctx, "category");
    String type = QueryParams.optional(ctx, "type");
    if (category != null) {
      filter = EventFilter.categories(category);
    }
    if (type != null) {
      filter = filter.andTypes(type);
    }
    Position resume = ctx.attribute(ScanApi.RESUME_AFTER);
    int tail = ctx.attribute(TAIL);
    hub.openGlobal(ctx, filter, resume, tail, liveConnections.releaser(ctx));
  }

  private void ready(Context ctx) {
    Map<String, Object> checks = new LinkedHashMap<>();
    boolean ready = true;
    try {
      checks.put("database", store.headPosition().toString());
    } catch (RuntimeException e) {
      // The cause (host names, SQL states) goes to the log, not to whoever asks.
      log.warn("Readiness check: database unreachable", e);
      checks.put("database", "unreachable");
      ready = false;
    }
    boolean projections = scans.projections().isRegistered("scan-read-models");
    checks.put("subscriptions", projections ? "running" : "not running");
    ready &= projections;
    ctx.status(ready ? 200 : 503).json(Map.of("ready", ready, "checks", checks));
  }
}
