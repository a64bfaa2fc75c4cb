package dev.eventscan.web;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.List;

/**
 * The console's pages: one layout around each page's body, one script and one stylesheet, and the
 * vendored chart library (uPlot, from its WebJar), all shipped in the jar: no CDN, no build step.
 */
final class Pages {
  /** A page: its path, the nav entry it belongs to, its title, its body and its script's entry. */
  private record Page(String path, String section, String title, String body, String entry) {}

  private static final List<String[]> NAV =
      List.of(
          new String[] {"/analyses", "Scans"},
          new String[] {"/monitor", "Monitor"},
          new String[] {"/streams", "Streams"},
          new String[] {"/events", "Events"},
          new String[] {"/failures", "Failures"},
          new String[] {"/simulation", "Simulation"});

  private static final List<Page> PAGES =
      List.of(
          new Page("/analyses", "/analyses", "Scans", "analyses", "analysesPage"),
          new Page("/analyses/{id}", "/analyses", "Scan", "analysis", "analysisPage"),
          new Page("/monitor", "/monitor", "Monitor", "monitor", "monitorPage"),
          new Page("/streams", "/streams", "Streams", "streams", "streamsPage"),
          new Page("/streams/{id}", "/streams", "Stream", "stream", "streamPage"),
          new Page("/events", "/events", "Events", "events", "eventsPage"),
          new Page("/failures", "/failures", "Failures", "failures", "failuresPage"),
          new Page("/simulation", "/simulation", "Simulation", "simulation", "simulationPage"));

  private static final String UPLOT =
      "/META-INF/resources/webjars/uplot/" + webJarVersion("uplot") + "/dist/";

  private Pages() {}

  static void register(RoutesConfig routes) {
    routes.get("/", ctx -> ctx.redirect("/analyses"));
    for (Page page : PAGES) {
      String html = render(page);
      routes.get(page.path(), ctx -> ctx.html(html));
    }
    asset(routes, "/assets/app.js", "/web/app.js", "text/javascript");
    asset(routes, "/assets/app.css", "/web/app.css", "text/css");
    asset(routes, "/assets/uplot.js", UPLOT + "uPlot.iife.min.js", "text/javascript");
    asset(routes, "/assets/uplot.css", UPLOT + "uPlot.min.css", "text/css");
  }

  private static void asset(RoutesConfig routes, String path, String resource, String type) {
    String content = WebApp.resource(resource);
    routes.get(path, (Context ctx) -> ctx.contentType(type + "; charset=utf-8").result(content));
  }

  /** The version of an npm WebJar on the class path, so the pom alone says which one ships. */
  private static String webJarVersion(String name) {
    java.util.Properties properties = new java.util.Properties();
    try {
      properties.load(
          new java.io.StringReader(
              WebApp.resource("/META-INF/maven/org.webjars.npm/" + name + "/pom.properties")));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    return properties.getProperty("version");
  }

  private static String render(Page page) {
    StringBuilder nav = new StringBuilder();
    for (String[] entry : NAV) {
      nav.append("<a href=\"")
          .append(entry[0])
          .append('"')
          .append(entry[0].equals(page.section()) ? " aria-current=\"page\"" : "")
          .append('>')
          .append(entry[1])
          .append("</a>");
    }
    return WebApp.resource("/web/layout.html")
        .replace("{{title}}", page.title())
        .replace("{{nav}}", nav)
        .replace("{{body}}", WebApp.resource("/web/pages/" + page.body() + ".html"))
        .replace("{{entry}}", page.entry());
  }
}
