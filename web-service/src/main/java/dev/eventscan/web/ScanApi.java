package dev.eventscan.web;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.position.InvalidPositionException;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamSlice;
import dev.eventscan.scan.ScanModule;
import dev.eventscan.scan.export.FindingsExport;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import dev.eventscan.scan.lifecycle.ScanNotFoundException;
import dev.eventscan.scan.lifecycle.ScanState;
import dev.eventscan.scan.readmodel.ScanQueries;
import dev.eventscan.scan.readmodel.ScanReadModelProjection;
import dev.eventscan.scan.readmodel.ScanSummary;
import dev.eventscan.scan.target.Target;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.nio.charset.CharacterCodingException;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The scans API: requests, listing, details, history, export, cancel, live updates. */
final class ScanApi {
  /** The live stream's resume position, checked before the stream opens. */
  static final String RESUME_AFTER = "resume-after";

  /** The scan's first page of events, read before its live stream opens. */
  private static final String FIRST_PAGE = "first-page";

  private static final Pattern SCAN_ID = Pattern.compile("[0-9a-f-]{36}");

  /** The body of POST /api/scans. */
  record CreateScan(String target, String scanner, Integer maxRetries) {}

  private final ScanModule scans;
  private final EventStore store;
  private final LiveHub hub;
  private final Config config;
  private final RateLimiter rateLimiter;
  private final LiveConnections liveConnections;
  private final ClientAddresses clients;

  ScanApi(
      ScanModule scans,
      EventStore store,
      LiveHub hub,
      Config config,
      LiveConnections liveConnections,
      ClientAddresses clients) {
    this.scans = scans;
    this.store = store;
    this.hub = hub;
    this.config = config;
    this.rateLimiter =
        new RateLimiter(store.dataSource(), Service.SCAN_SCHEMA, config.scansPerMinutePerClient());
    this.liveConnections = liveConnections;
    this.clients = clients;
  }

  void register(RoutesConfig routes) {
    routes.post("/api/scans", this::create);
    routes.get("/api/scans", this::list);
    routes.get("/api/scans/{id}", this::get);
    routes.get("/api/scans/{id}/events", this::events);
    routes.post("/api/scans/{id}/cancel", this::cancel);
    routes.get("/api/scans/{id}/export", this::export);
    routes.get("/api/targets/{target}/history", this::history);
    // Validate before the stream opens, so bad requests get a JSON 4xx, not an event stream.
    routes.before(
        "/api/scans/{id}/live",
        ctx -> {
          // One read answers both "does it exist" and the viewer's first events.
          String scanId = scanId(ctx);
          StreamSlice firstPage = hub.firstScanPage(ScanEventTypes.streamId(scanId));
          if (firstPage.events().isEmpty()) {
            throw new ScanNotFoundException(scanId);
          }
          List<RecordedEvent> events = firstPage.events();
          ctx.attribute(
              RESUME_AFTER, resumePosition(ctx, store, events.get(events.size() - 1).position()));
          ctx.attribute(FIRST_PAGE, firstPage);
          liveConnections.admit(ctx);
        });
    routes.get("/api/scans/{id}/live", this::live);
  }

  private void create(Context ctx) {
    long wait = rateLimiter.acquire(clients.of(ctx));
    if (wait > 0) {
      ctx.header("Retry-After", Long.toString(wait));
      throw new ApiException(
          429, "rate_limited", "too many scans requested; retry in " + wait + " s");
    }
    CreateScan request = Json.read(ctx.body(), CreateScan.class);
    if (request.target() == null) {
      throw ApiException.badRequest("field 'target' is required");
    }
    Target target = Target.parse(request.target());
    SpecialUseNames.requirePublic(target);
    String scanId = scans.requestScan(target.domain(), request.scanner(), request.maxRetries());
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("id", scanId);
    body.put("target", target.domain());
    body.put("status", "STARTED");
    body.put(
        "links", Map.of("self", "/api/scans/" + scanId, "live", "/api/scans/" + scanId + "/live"));
    ctx.status(202).header("Location", "/api/scans/" + scanId).json(body);
  }

  private void list(Context ctx) {
    int limit = QueryParams.intParam(ctx, "limit", 20, 1, ScanQueries.MAX_LIMIT);
    String target = QueryParams.optional(ctx, "target");
    var page =
        scans
            .queries()
            .list(
                QueryParams.optional(ctx, "status"),
                target == null ? null : Target.parse(target).domain(),
                limit,
                cursor(ctx));
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("scans", page.scans().stream().map(ScanApi::view).toList());
    body.put("nextCursor", page.nextCursor());
    ctx.json(body);
  }

  /**
   * The cursor is opaque to clients but reaches SQL: refuse one that cannot be ours before it gets
   * there (one decoding to a NUL made PostgreSQL fail with a 500).
   */
  private static String cursor(Context ctx) {
    String cursor = QueryParams.optional(ctx, "cursor");
    if (cursor == null) {
      return null;
    }
    try {
      String decoded = QueryParams.strictUtf8(Base64.getUrlDecoder().decode(cursor));
      if (!QueryParams.hasControlCharacter(decoded)) {
        return cursor;
      }
    } catch (IllegalArgumentException | CharacterCodingException e) {
      // the same answer as a control character, below
    }
    throw new ApiException(400, "invalid_query", "cursor is not one this service handed out");
  }

  private void get(Context ctx) {
    String scanId = scanId(ctx);
    var summary = scans.queries().get(scanId);
    if (summary.isEmpty()) {
      // Just requested: the read model has not caught up yet, the events are there.
      if (!(scans.scans().load(scanId).state() instanceof ScanState.Requested state)) {
        throw new ScanNotFoundException(scanId);
      }
      Map<String, Object> early = new LinkedHashMap<>();
      early.put("id", scanId);
      early.put("target", state.request().target());
      early.put("scanner", state.request().scanner());
      early.put("status", state.status().name());
      early.put("progressPercent", state.progressPercent());
      early.put("requestedAt", state.request().requestedAt());
      ctx.json(early);
      return;
    }
    Map<String, Object> body = view(summary.get());
    body.put("domainsProgress", scans.queries().domains(scanId));
    body.put("findings", scans.queries().findings(scanId));
    ctx.json(body);
  }

  private ScanSummary summary(String scanId) {
    return scans.queries().get(scanId).orElseThrow(() -> new ScanNotFoundException(scanId));
  }

  private void events(Context ctx) {
    String scanId = scanId(ctx);
    ctx.json(Map.of("events", scans.events(scanId).stream().map(Json::event).toList()));
  }

  private void cancel(Context ctx) {
    String scanId = scanId(ctx);
    scans.cancel(scanId, "cancelled through the API");
    ctx.json(Map.of("id", scanId, "status", "CANCELLED"));
  }

  private void export(Context ctx) {
    String scanId = scanId(ctx);
    ScanSummary summary = summary(scanId);
    List<FindingsExport.Row> rows = scans.queries().findings(scanId);
    String format = ctx.queryParamAsClass("format", String.class).getOrDefault("json");
    String file = "scan-" + scanId + "-findings.";
    switch (format) {
      case "json" ->
          ctx.contentType("application/json")
              .header("Content-Disposition", "attachment; filename=\"" + file + "json\"")
              .result(FindingsExport.toJson(scanId, summary.target(), rows));
      case "csv" ->
          ctx.contentType("text/csv; charset=utf-8")
              .header("Content-Disposition", "attachment; filename=\"" + file + "csv\"")
              .result(FindingsExport.toCsv(rows));
      default -> throw ApiException.badRequest("format must be json or csv");
    }
  }

  private void history(Context ctx) {
    String target = Target.parse(ctx.pathParam("target")).domain();
    int limit = QueryParams.intParam(ctx, "limit", 50, 1, ScanQueries.MAX_LIMIT);
    ctx.json(
        Map.of(
            "target",
            target,
            "scans",
            scans.queries().history(target, limit).stream().map(ScanApi::view).toList()));
  }

  private void live(Context ctx) {
    String scanId = scanId(ctx);
    Position resume = ctx.attribute(RESUME_AFTER);
    StreamSlice firstPage = ctx.attribute(FIRST_PAGE);
    hub.openScan(ctx, scanId, firstPage, resume, liveConnections.releaser(ctx));
  }

  /** The scan's summary once the read model has caught up with {@code event}. */
  static String summaryAfter(ScanModule scans, String scanId, RecordedEvent event) {
    try {
      scans
          .projections()
          .awaitPosition(ScanReadModelProjection.NAME, event.position(), Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return scans.queries().get(scanId).map(s -> Json.write(view(s))).orElse(null);
  }

  /**
   * Last-Event-ID (set by EventSource on reconnect) or {@code ?from=} on first connect. A position
   * beyond the newest event is refused: the stream would wait silently until the log grew past it.
   */
  static Position resumePosition(Context ctx, EventStore store) {
    return resumePosition(ctx, store, Position.START);
  }

  /**
   * As {@link #resumePosition(Context, EventStore)}, where {@code known} is a position the log is
   * known to have reached: one up to it needs no query for the log's head.
   */
  static Position resumePosition(Context ctx, EventStore store, Position known) {
    String header = ctx.header("Last-Event-ID");
    String from = header != null && !header.isBlank() ? header : ctx.queryParam("from");
    if (from == null || from.isBlank()) {
      return null;
    }
    Position position;
    try {
      position = Position.parse(from.strip());
    } catch (InvalidPositionException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    if (position.isAfter(known) && position.isAfter(store.headPosition())) {
      throw ApiException.badRequest(
          "position " + position + " is beyond the newest event; resume from one you received");
    }
    return position;
  }

  static Map<String, Object> view(ScanSummary s) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("id", s.scanId());
    view.put("target", s.target());
    view.put("scanner", s.scanner());
    view.put("maxRetries", s.maxRetries());
    view.put("status", s.status());
    view.put("currentStep", s.currentStep());
    view.put("progressPercent", s.progressPercent());
    view.put("domains", s.domains());
    view.put("subdomains", s.subdomains());
    view.put("failedAttempts", s.failedAttempts());
    view.put("score", s.score());
    view.put("confidence", s.confidence());
    view.put(
        "scoreBreakdown",
        s.scoreBreakdownJson() == null ? null : Json.tree(s.scoreBreakdownJson()));
    view.put("failureReason", s.failureReason());
    view.put("requestedAt", s.requestedAt());
    view.put("startedAt", s.startedAt());
    view.put("completedAt", s.completedAt());
    view.put("durationMs", s.durationMs());
    return view;
  }

  static String scanId(Context ctx) {
    String id = ctx.pathParam("id");
    if (!SCAN_ID.matcher(id).matches()) {
      throw ApiException.notFound("scan " + id + " does not exist");
    }
    return id;
  }
}
