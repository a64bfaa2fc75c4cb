package dev.eventscan.web;

import io.javalin.config.RoutesConfig;

/** The browser pages: plain HTML and one script, shipped in the jar (no CDN, no build step). */
final class Pages {
  private Pages() {}

  static void register(RoutesConfig routes) {
    routes.get("/", ctx -> ctx.redirect("/analyses"));
    routes.get("/analyses", ctx -> ctx.html(WebApp.resource("/web/analyses.html")));
    routes.get("/analyses/{id}", ctx -> ctx.html(WebApp.resource("/web/analysis.html")));
    routes.get("/monitor", ctx -> ctx.html(WebApp.resource("/web/monitor.html")));
    routes.get(
        "/assets/app.js",
        ctx ->
            ctx.contentType("text/javascript; charset=utf-8")
                .result(WebApp.resource("/web/app.js")));
    routes.get(
        "/assets/app.css",
        ctx -> ctx.contentType("text/css; charset=utf-8").result(WebApp.resource("/web/app.css")));
  }
}
