package dev.eventscan.web;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Duration;

/** The traffic simulator's controls and status. */
final class SimulationApi {
  /** The body of POST /api/simulation/start; a missing field takes its default. */
  record Start(Double ratePerSecond, Integer durationSeconds, Double failureRate) {
    Simulator.Plan validated() {
      double rate = ratePerSecond == null ? 5 : ratePerSecond;
      int seconds = durationSeconds == null ? 300 : durationSeconds;
      double failures = failureRate == null ? 0.2 : failureRate;
      if (!(rate > 0 && rate <= Simulator.MAX_RATE)) {
        throw ApiException.badRequest("ratePerSecond must be > 0 and <= " + Simulator.MAX_RATE);
      }
      if (seconds < 1 || seconds > Simulator.MAX_DURATION_SECONDS) {
        throw ApiException.badRequest(
            "durationSeconds must be between 1 and " + Simulator.MAX_DURATION_SECONDS);
      }
      return new Simulator.Plan(rate, Duration.ofSeconds(seconds), share("failureRate", failures));
    }
  }

  /** The body of POST /api/simulation/faults. */
  record Faults(Boolean failingProjection, Double failureShare) {}

  private final Simulator simulator;

  SimulationApi(Simulator simulator) {
    this.simulator = simulator;
  }

  void register(RoutesConfig routes) {
    routes.post("/api/simulation/start", this::start);
    routes.post("/api/simulation/stop", ctx -> ctx.json(simulator.stop()));
    routes.post("/api/simulation/reset", ctx -> ctx.json(simulator.reset()));
    routes.get("/api/simulation/status", ctx -> ctx.json(simulator.status()));
    routes.post("/api/simulation/faults", this::faults);
    routes.post("/api/simulation/faults/crash-worker", ctx -> ctx.json(simulator.crashWorkers()));
  }

  private void start(Context ctx) {
    Start start =
        ctx.body().isBlank() ? new Start(null, null, null) : Json.read(ctx.body(), Start.class);
    Simulator.Plan plan = start.validated();
    try {
      ctx.status(202).json(simulator.start(plan));
    } catch (Simulator.AlreadyRunningException e) {
      throw new ApiException(409, "conflict", e.getMessage());
    }
  }

  private void faults(Context ctx) {
    Faults faults = Json.read(ctx.body(), Faults.class);
    Double share =
        faults.failureShare() == null ? null : share("failureShare", faults.failureShare());
    ctx.json(simulator.faults(faults.failingProjection(), share));
  }

  private static double share(String field, double value) {
    if (!(value >= 0 && value <= 1)) {
      throw ApiException.badRequest(field + " must be between 0 and 1");
    }
    return value;
  }
}
