package dev.eventscan.bench;

import dev.eventscan.web.Config;
import dev.eventscan.web.Service;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** Starts the real service for the HTTP scenarios, and small HTTP helpers. */
final class ServiceScenarios {
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private ServiceScenarios() {}

  static Service start(BenchmarkDatabase database, Map<String, String> env) throws Exception {
    Map<String, String> all = new java.util.HashMap<>(env);
    all.putIfAbsent("PORT", "0");
    if (database != null) {
      all.put("DATABASE_URL", database.jdbcUrl());
    }
    all.put("SCAN_RATE_LIMIT_PER_MINUTE", "1000000");
    all.put("LOG_LEVEL", "warn");
    // The fan-out scenario opens thousands of streams from one address.
    all.putIfAbsent("MAX_LIVE_CONNECTIONS", "100000");
    all.putIfAbsent("MAX_LIVE_CONNECTIONS_PER_CLIENT", "100000");
    return Service.start(Config.fromEnvironment(all));
  }

  static void awaitReady(int port) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<Void> ready =
            HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready")).build(),
                HttpResponse.BodyHandlers.discarding());
        if (ready.statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException e) {
        // not listening yet
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException("service never became ready");
  }

  static Path tempDir(String prefix) throws Exception {
    return Files.createTempDirectory(prefix);
  }
}
