package dev.eventscan.web;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** The traffic simulator's controls and status. */
final class SimulationApi {
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
    routes.get("/simulation", ctx -> ctx.html(WebApp.resource("/web/simulation.html")));
  }

  private void start(Context ctx) {
    Simulator.Settings settings =
        ctx.body().isBlank()
            ? new Simulator.Settings(null, null, null)
            : Json.read(ctx.body(), Simulator.Settings.class);
    ctx.status(202).json(simulator.start(settings));
  }

  private void faults(Context ctx) {
    Faults faults = Json.read(ctx.body(), Faults.class);
    ctx.json(simulator.faults(faults.failingProjection(), faults.failureShare()));
  }
}
