package dev.eventscan.web;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.InvalidInputException;
import dev.eventscan.eventstore.projection.UnknownProjectionException;
import dev.eventscan.eventstore.statistics.EventStatistics;
import dev.eventscan.eventstore.stream.StreamDeletedException;
import dev.eventscan.eventstore.subscription.FailureAlreadySettledException;
import dev.eventscan.eventstore.subscription.UnknownFailureException;
import dev.eventscan.scan.ScanModule;
import dev.eventscan.scan.lifecycle.InvalidScanCommandException;
import dev.eventscan.scan.lifecycle.InvalidScanTransitionException;
import dev.eventscan.scan.lifecycle.ScanNotFoundException;
import dev.eventscan.scan.readmodel.InvalidQueryException;
import dev.eventscan.scan.target.InvalidTargetException;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side: Javalin routes, error rendering, authentication and request metrics. Handlers live
 * in {@link ScanApi} and {@link MonitoringApi}; they parse, call the domain, render.
 */
public final class WebApp implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebApp.class);
  static final long MAX_BODY_BYTES = 64 * 1024;

  /** Connections the kernel may hold for the acceptor (see {@link #acceptQueue}). */
  static final int ACCEPT_QUEUE = 4096;

  private final Javalin javalin;
  private final LiveHub hub;
  private final LiveConnections liveConnections;
  private final QueuedThreadPool threads = new QueuedThreadPool(100, 8);
  private final Simulator simulator;
  private final LagHistory lagHistory;

  WebApp(
      Config config,
      EventStore store,
      ScanModule scans,
      EventStatistics statistics,
      PrometheusMeterRegistry metrics,
      java.util.function.Function<LiveHub, Simulator> simulatorFactory) {
    this.hub =
        new LiveHub(
            store,
            config.sseKeepAlive(),
            config.sseBufferEvents(),
            (scanId, event) -> ScanApi.summaryAfter(scans, scanId, event),
            liveTimer(
                "sse_feed_lag",
                "from an event's recordedAt (its append transaction's start) to the live feed"
                    + " handing it to the streams: what the fan-out cannot make up for",
                metrics),
            liveTimer(
                "sse_fan_out",
                "from the live feed taking an event to its frame being written to every"
                    + " stream that could take it (per wake-up pass, its newest frame)",
                metrics));
    this.simulator = simulatorFactory.apply(hub);
    RequestGuard guard = new RequestGuard(config);
    ClientAddresses clients = new ClientAddresses(config.clientAddressHeader());
    this.liveConnections =
        new LiveConnections(
            config.maxLiveConnections(), config.maxLiveConnectionsPerClient(), clients);
    SimulationApi simulationApi = new SimulationApi(simulator);
    ScanApi scanApi = new ScanApi(scans, store, hub, config, liveConnections, clients);
    EventRates rates = new EventRates(store.dataSource(), Service.CONSOLE_SCHEMA);
    MonitoringApi monitoringApi =
        new MonitoringApi(store, scans, statistics, hub, metrics, guard, liveConnections, rates);
    this.lagHistory = new LagHistory(scans.subscriptions()).start();
    ConsoleApi consoleApi = new ConsoleApi(store, scans.subscriptions(), rates, lagHistory);
    JsonErrorHandler jettyErrors = new JsonErrorHandler();
    this.javalin =
        Javalin.create(
            javalinConfig -> {
              javalinConfig.http.maxRequestSize = MAX_BODY_BYTES;
              javalinConfig.jsonMapper(new io.javalin.json.JavalinJackson(Json.MAPPER, false));
              javalinConfig.http.prefer405over404 = true;
              javalinConfig.startup.showJavalinBanner = false;
              // Live streams hold no thread (LiveHub writes without blocking): requests only.
              threads.setName("http");
              javalinConfig.jetty.threadPool = threads;
              // Requests Jetty refuses before routing answer in JSON too.
              javalinConfig.jetty.modifyServer(
                  server -> {
                    server.setErrorHandler(jettyErrors);
                    acceptQueue(server);
                  });
              javalinConfig.jetty.modifyServletContextHandler(
                  context -> context.setErrorHandler(jettyErrors));
              javalinConfig.jetty.modifyHttpConfiguration(http -> http.setSendServerVersion(false));
              var routes = javalinConfig.routes;
              routes.before(
                  ctx -> {
                    ctx.attribute("started", System.nanoTime());
                    guard.check(ctx);
                  });
              routes.after(ctx -> record(metrics, ctx));
              scanApi.register(routes);
              monitoringApi.register(routes);
              consoleApi.register(routes);
              simulationApi.register(routes);
              Pages.register(routes);
              routes.exception(
                  ApiException.class, (e, ctx) -> error(ctx, e.status(), e.code(), e.getMessage()));
              routes.exception(
                  HttpResponseException.class,
                  (e, ctx) ->
                      error(
                          ctx,
                          e.getStatus(),
                          switch (e.getStatus()) {
                            case 404 -> "not_found";
                            case 405 -> "method_not_allowed";
                            case 413 -> "payload_too_large";
                            default -> "http_" + e.getStatus();
                          },
                          e.getStatus() == 413
                              ? "request body must be at most " + MAX_BODY_BYTES + " bytes"
                              : e.getMessage()));
              routes.exception(
                  InvalidTargetException.class,
                  (e, ctx) ->
                      error(
                          ctx,
                          400,
                          "invalid_target",
                          e.getMessage().startsWith("target")
                              ? e.getMessage()
                              : "target: " + e.getMessage()));
              routes.exception(
                  InvalidScanCommandException.class,
                  (e, ctx) -> error(ctx, 400, "invalid_request", e.getMessage()));
              routes.exception(
                  InvalidQueryException.class,
                  (e, ctx) -> error(ctx, 400, "invalid_query", e.getMessage()));
              routes.exception(
                  InvalidInputException.class,
                  (e, ctx) -> error(ctx, 400, "invalid_input", e.getMessage()));
              routes.exception(
                  ScanNotFoundException.class,
                  (e, ctx) -> error(ctx, 404, "not_found", e.getMessage()));
              routes.exception(
                  UnknownProjectionException.class,
                  (e, ctx) -> error(ctx, 404, "not_found", e.getMessage()));
              routes.exception(
                  UnknownFailureException.class,
                  (e, ctx) -> error(ctx, 404, "not_found", e.getMessage()));
              routes.exception(
                  FailureAlreadySettledException.class,
                  (e, ctx) -> error(ctx, 409, "conflict", e.getMessage()));
              routes.exception(
                  StreamDeletedException.class,
                  (e, ctx) -> error(ctx, 410, "gone", e.getMessage()));
              routes.exception(
                  InvalidScanTransitionException.class,
                  (e, ctx) -> error(ctx, 409, "conflict", e.getMessage()));
              routes.exception(
                  Exception.class,
                  (e, ctx) -> {
                    log.error("Unexpected failure on {} {}", ctx.method(), ctx.path(), e);
                    error(ctx, 500, "internal_error", "unexpected failure; see the service log");
                  });
              routes.error(
                  404,
                  ctx -> {
                    if (ctx.resultInputStream() == null) {
                      error(ctx, 404, "not_found", "no such resource: " + ctx.path());
                    }
                  });
              routes.error(
                  405,
                  ctx ->
                      error(
                          ctx,
                          405,
                          "method_not_allowed",
                          ctx.method() + " is not allowed on " + ctx.path()));
            });
  }

  WebApp start(String host, int port) {
    javalin.start(host, port);
    return this;
  }

  int port() {
    return javalin.port();
  }

  /** Every HTTP route as "METHOD path" (the security tests walk them all). */
  List<String> routes() {
    return javalin.unsafe.internalRouter.allHttpHandlers().stream()
        .map(parsed -> parsed.endpoint)
        .filter(endpoint -> endpoint.method.isHttpMethod())
        .map(endpoint -> endpoint.method.name() + " " + endpoint.path)
        .toList();
  }

  static void error(Context ctx, int status, String code, String message) {
    ctx.status(status).contentType("application/json").result(Json.error(code, message));
  }

  private static void record(PrometheusMeterRegistry metrics, Context ctx) {
    Object started = ctx.attribute("started");
    if (started instanceof Long start) {
      String route = ctx.endpoint() == null ? "unmatched" : ctx.endpoint().path;
      Timer.builder("http_server_requests")
          .tag("method", ctx.method().name())
          .tag("route", route)
          .tag("status", Integer.toString(ctx.status().getCode()))
          .register(metrics)
          .record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
    }
  }

  static String resource(String path) {
    try (InputStream in = WebApp.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  LiveHub hub() {
    return hub;
  }

  LiveConnections liveConnections() {
    return liveConnections;
  }

  /** Jetty's request threads (tests check that streams do not keep any busy). */
  QueuedThreadPool threads() {
    return threads;
  }

  /** Ends the live streams first (their writers return), then stops accepting requests. */
  @Override
  public void close() {
    lagHistory.close();
    simulator.close();
    hub.close();
    javalin.stop();
  }

  /**
   * A live-path timer with its rolling p50/p99 and also its histogram buckets: the buckets are
   * cumulative counts, so a scrape before and after a window gives that window's distribution (the
   * rolling percentiles cover a 2-minute window, whatever happened before it included).
   */
  private static io.micrometer.core.instrument.Timer liveTimer(
      String name, String description, PrometheusMeterRegistry metrics) {
    return io.micrometer.core.instrument.Timer.builder(name)
        .description(description)
        .publishPercentiles(0.5, 0.99)
        .publishPercentileHistogram()
        .minimumExpectedValue(java.time.Duration.ofMillis(1))
        .maximumExpectedValue(java.time.Duration.ofSeconds(30))
        .register(metrics);
  }

  /**
   * Thousands of EventSource clients connect at once (after a restart, a deploy, a network blip):
   * with the JVM's default accept backlog of 50 the kernel drops their handshakes, and each waits a
   * second or more to retry. The kernel caps the queue at {@code net.core.somaxconn}. Set as the
   * server starts: Javalin adds its connector after {@code modifyServer}, before the start.
   */
  private static void acceptQueue(Server server) {
    server.addEventListener(
        new LifeCycle.Listener() {
          @Override
          public void lifeCycleStarting(LifeCycle event) {
            for (Connector connector : server.getConnectors()) {
              if (connector instanceof ServerConnector listening) {
                listening.setAcceptQueueSize(ACCEPT_QUEUE);
              }
            }
          }
        });
  }
}
