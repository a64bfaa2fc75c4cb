package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * End to end in headless Chromium (Debian's chromium and chromium-driver, installed by .ci/run):
 * start an analysis by clicking, watch it complete live, see its events on the monitor.
 */
@ExtendWith(PostgresExtension.class)
class BrowserTest {
  private static final Path SCREENSHOTS = Path.of("target", "screenshots");
  private static RunningService app;
  private static WebDriver browser;
  private static TestDatabase database;

  @BeforeAll
  static void start(TestDatabase testDatabase) throws Exception {
    browser = HeadlessChromium.start();
    database = testDatabase;
    app = new RunningService(database, Map.of());
    Files.createDirectories(SCREENSHOTS);
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (app != null) {
      app.close();
    }
  }

  @Test
  void an_analysis_started_by_clicking_completes_live_and_shows_on_the_monitor() throws Exception {
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
    browser.get(app.url + "/analyses");
    browser.findElement(By.id("target")).sendKeys("browser.example");
    browser.findElement(By.id("maxRetries")).clear();
    browser.findElement(By.id("maxRetries")).sendKeys("8");
    browser.findElement(By.id("start")).click();

    wait.until(ExpectedConditions.urlMatches("/analyses/[0-9a-f-]{36}$"));
    String scanId = browser.getCurrentUrl().substring(browser.getCurrentUrl().lastIndexOf('/') + 1);
    wait.until(ExpectedConditions.textToBe(By.id("status"), "COMPLETED"));
    assertThat(browser.findElement(By.id("score")).getText()).matches("\\d+");
    // The status comes from the read model, the timeline from the live stream: either may be
    // first on a busy machine.
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("timeline"), "Completed"));
    screenshot("analysis-completed");

    browser.get(app.url + "/monitor");
    wait.until(ExpectedConditions.textToBe(By.id("connection"), "live"));
    // ?tail=50: events from before the page opened are shown too.
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("feed"), "scan-" + scanId));
    String other = app.createScan("after-monitor.example");
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("feed"), "scan-" + other));
    wait.until(d -> !d.findElement(By.id("total-events")).getText().equals("–"));
    assertThat(browser.findElement(By.id("projections")).getText()).contains("scan-read-models");
    screenshot("monitor");

    browser.get(app.url + "/analyses");
    wait.until(
        ExpectedConditions.textToBePresentInElementLocated(By.id("scans"), "browser.example"));
    assertThat(scanId).isNotBlank();
  }

  @Test
  void the_simulator_is_started_from_its_page_its_counters_move_and_it_stops() throws Exception {
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
    browser.get(app.url + "/simulation");
    browser.findElement(By.id("rate")).clear();
    browser.findElement(By.id("rate")).sendKeys("10");
    browser.findElement(By.id("failure-rate")).clear();
    browser.findElement(By.id("failure-rate")).sendKeys("0");
    browser.findElement(By.id("sim-start")).click();
    wait.until(ExpectedConditions.textToBe(By.id("sim-running"), "yes"));
    wait.until(d -> Integer.parseInt(d.findElement(By.id("sim-completed")).getText()) >= 3);
    wait.until(d -> d.findElements(By.cssSelector("#sim-latest tr")).size() >= 3);
    screenshot("simulation-running");
    browser.findElement(By.id("sim-stop")).click();
    wait.until(ExpectedConditions.textToBe(By.id("sim-running"), "no"));
    String produced = browser.findElement(By.id("sim-produced")).getText();
    Thread.sleep(1_500);
    assertThat(browser.findElement(By.id("sim-produced")).getText()).isEqualTo(produced);
  }

  @Test
  void a_bad_target_shows_the_services_message() throws Exception {
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
    browser.get(app.url + "/analyses");
    browser.findElement(By.id("target")).sendKeys("not a domain");
    browser.findElement(By.id("start")).click();
    wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("form-error"), "target"));
    screenshot("bad-target");
  }

  @Test
  void with_an_api_token_the_pages_ask_for_it_once_and_send_it_from_then_on() throws Exception {
    String token = "browser-token-0123456789";
    try (RunningService secured = new RunningService(database, Map.of("API_TOKEN", token))) {
      WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
      browser.get(secured.url + "/analyses");
      browser.findElement(By.id("target")).sendKeys("token.example");
      browser.findElement(By.id("maxRetries")).clear();
      browser.findElement(By.id("maxRetries")).sendKeys("8");
      browser.findElement(By.id("start")).click();

      wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("api-token")));
      screenshot("token-asked");
      browser.findElement(By.id("api-token")).sendKeys(token);
      browser.findElement(By.id("api-token-submit")).click();
      wait.until(ExpectedConditions.urlMatches("/analyses/[0-9a-f-]{36}$"));
      wait.until(ExpectedConditions.textToBe(By.id("status"), "COMPLETED"));

      // The failures page reads internals (token only) and the simulation page changes things:
      // both with the stored token, without asking again.
      browser.get(secured.url + "/failures");
      wait.until(ExpectedConditions.attributeToBe(By.id("failures"), "aria-busy", "false"));
      assertThat(browser.findElements(By.id("token-dialog"))).isEmpty();
      browser.get(secured.url + "/simulation");
      browser.findElement(By.id("sim-reset")).click();
      wait.until(ExpectedConditions.textToBe(By.id("sim-running"), "no"));
      assertThat(browser.findElements(By.id("token-dialog"))).isEmpty();
      assertThat(browser.findElement(By.id("sim-error")).getText()).isEmpty();
      ((org.openqa.selenium.JavascriptExecutor) browser)
          .executeScript("sessionStorage.removeItem('eventscan.apiToken')");
    }
  }

  private static void screenshot(String name) throws Exception {
    byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
    Files.write(SCREENSHOTS.resolve(name + ".png"), png);
  }
}
