package dev.eventscan.web;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;

/**
 * The real browser of the UI tests: Debian's Chromium and chromedriver (installed by {@code
 * .ci/run}), headless, with a fresh profile and nothing talking to the network on its own. {@code
 * SKIP_BROWSER_TESTS=true} skips the tests that use it.
 */
final class HeadlessChromium {
  private HeadlessChromium() {}

  /** A browser whose console messages can be read ({@code LogType.BROWSER}). */
  static WebDriver start() throws IOException {
    Assumptions.assumeFalse(
        "true".equals(System.getenv("SKIP_BROWSER_TESTS")), "SKIP_BROWSER_TESTS=true");
    ChromeOptions options = new ChromeOptions();
    options.setBinary("/usr/bin/chromium");
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        "--user-data-dir=" + Files.createTempDirectory("chromium-profile"));
    options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File("/usr/bin/chromedriver"))
            .usingAnyFreePort()
            .build();
    return new ChromeDriver(service, options);
  }
}
