package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.subscription.RetryPolicy;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The operator console in headless Chromium: every page filled on first paint at phone and desktop
 * width (screenshots under target/screenshots/console), a stream browsed to an event's JSON, the
 * log followed live, a parked failure retried from the page, a rebuild confirmed; no console errors
 * anywhere.
 */
@ExtendWith(PostgresExtension.class)
class ConsoleBrowserTest {
  private static final Path SCREENSHOTS = Path.of("target", "screenshots", "console");
  private static final Dimension DESKTOP = new Dimension(1280, 900);
  private static final Dimension PHONE = new Dimension(390, 844);
  private static RunningService app;
  private static WebDriver browser;
  private static String scanId;

  @BeforeAll
  static void start(TestDatabase database) throws Exception {
    browser = HeadlessChromium.start();
    app = new RunningService(database, Map.of());
    browser.manage().window().setSize(DESKTOP);
    Files.createDirectories(SCREENSHOTS);
    app.createScan("history.example");
    scanId = app.createScan("history.example");
    app.awaitStatus(scanId, "COMPLETED");
    app.service
        .store()
        .append(
            "crate-1",
            ExpectedVersion.noStream(),
            EventData.of(
                "Packed",
                "{\"items\":3,\"label\":\"<b>not html</b>\"}",
                new EventMetadata("corr-7", null, Map.of("user", "ada"))));
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

  /** Whatever a test did, the pages it saw logged no error (a 404, a script error). */
  @AfterEach
  void no_console_errors() {
    List<LogEntry> errors =
        browser.manage().logs().get(LogType.BROWSER).getAll().stream()
            .filter(entry -> entry.getLevel().intValue() >= Level.SEVERE.intValue())
            .toList();
    assertThat(errors).extracting(LogEntry::getMessage).isEmpty();
  }

  private static WebDriverWait await() {
    return new WebDriverWait(browser, Duration.ofSeconds(30));
  }

  private static String text(String id) {
    return browser.findElement(By.id(id)).getText();
  }

  /** Opens a page at both widths, waits until it is filled, saves a screenshot of each. */
  private static void page(String name, String path, Function<WebDriver, Boolean> filled)
      throws Exception {
    for (Dimension size : List.of(DESKTOP, PHONE)) {
      browser.manage().window().setSize(size);
      browser.get(app.url + path);
      await().until(filled::apply);
      screenshot(name + (size.equals(PHONE) ? "-phone" : "-desktop"));
    }
    browser.manage().window().setSize(DESKTOP);
  }

  /** The whole page: the window grows to the page's height for the picture, then shrinks back. */
  private static void screenshot(String name) throws Exception {
    Dimension size = browser.manage().window().getSize();
    long height =
        (Long)
            ((org.openqa.selenium.JavascriptExecutor) browser)
                .executeScript("return document.documentElement.scrollHeight");
    browser
        .manage()
        .window()
        .setSize(new Dimension(size.width, (int) Math.min(height + 100, 4000)));
    Thread.sleep(400); // charts redraw at the new size; the checks never depend on this pause
    byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
    Files.write(SCREENSHOTS.resolve(name + ".png"), png);
    browser.manage().window().setSize(size);
  }

  @Test
  void every_page_is_filled_on_first_paint_at_phone_and_desktop_width() throws Exception {
    page(
        "monitor",
        "/monitor",
        d -> {
          // The overview is read before the live stream opens: once live, the cards are filled.
          if (!text("connection").equals("live")) {
            return false;
          }
          assertThat(text("total-events")).as("cards filled before live").isNotEqualTo("–");
          return !d.findElements(By.cssSelector("#chart .uplot")).isEmpty()
              && text("projections").contains("scan-read-models")
              && text("subscriptions").contains("scan-process-manager")
              && text("feed").contains("scan-" + scanId);
        });
    page(
        "analysis",
        "/analyses/" + scanId,
        d ->
            text("status").equals("COMPLETED")
                && text("timeline").contains("Completed")
                && text("score").matches("\\d+")
                && !d.findElements(By.cssSelector("#history-chart .uplot")).isEmpty());
    assertThat(browser.findElement(By.id("cancel")).isDisplayed())
        .as("no Cancel on a final scan")
        .isFalse();
    assertThat(text("findings")).isNotBlank();
    page("analyses", "/analyses", d -> text("scans").contains("history.example"));
    page("streams", "/streams", d -> text("streams").contains("scan-" + scanId));
    page("stream", "/streams/scan-" + scanId, d -> text("stream-events").contains("ScanCompleted"));
    page("events", "/events", d -> text("log").contains("Packed"));
    page(
        "failures",
        "/failures",
        d -> "false".equals(d.findElement(By.id("failures")).getAttribute("aria-busy")));
    page(
        "simulation",
        "/simulation",
        d -> !d.findElements(By.cssSelector("#sim-chart .uplot")).isEmpty());
  }

  /**
   * A scan's stream reads past the log's barrier, its live stream does not: the page once resumed
   * from the last event it had read, a position the live stream refused (400) while an older
   * transaction was open, and never went live.
   */
  @Test
  void a_scan_page_goes_live_even_while_a_long_transaction_holds_the_log_back() throws Exception {
    String held;
    try (java.sql.Connection holder = app.service.store().dataSource().getConnection()) {
      holder.setAutoCommit(false);
      try (var statement = holder.createStatement()) {
        statement.execute("SELECT pg_current_xact_id()");
      }
      held = app.createScan("held.example");
      browser.get(app.url + "/analyses/" + held);
      await().until(d -> text("timeline").contains("Requested"));
      holder.rollback();
    }
    await().until(d -> text("status").equals("COMPLETED"));
  }

  @Test
  void a_stream_is_browsed_from_the_list_to_an_events_json() throws Exception {
    browser.get(app.url + "/streams");
    browser.findElement(By.id("category")).sendKeys("crate");
    browser.findElement(By.cssSelector("#stream-search button[type=submit]")).click();
    await().until(ExpectedConditions.elementToBeClickable(By.linkText("crate-1"))).click();
    await().until(ExpectedConditions.urlContains("/streams/crate-1"));
    await().until(ExpectedConditions.elementToBeClickable(By.cssSelector("#v1 summary"))).click();
    String json = browser.findElement(By.cssSelector("#v1 pre")).getText();
    assertThat(json).contains("\"items\": 3").contains("\"label\": \"<b>not html</b>\"");
    assertThat(browser.findElements(By.cssSelector("#v1 pre b"))).as("data is text").isEmpty();
    assertThat(browser.findElement(By.cssSelector("#v1")).getText()).contains("corr-7", "ada");
  }

  @Test
  void the_global_log_follows_new_events_live() throws Exception {
    browser.get(app.url + "/events");
    await().until(d -> text("log").contains("Packed"));
    browser.findElement(By.id("follow")).click();
    await().until(d -> text("connection").equals("live"));
    app.service
        .store()
        .append("followed-1", ExpectedVersion.noStream(), EventData.of("Followed", "{}"));
    await().until(d -> text("log").contains("followed-1"));
    assertThat(browser.findElement(By.cssSelector("#log tr")).getText()).contains("Followed");
  }

  @Test
  void a_parked_failure_shows_its_detail_and_is_retried_from_the_page() throws Exception {
    AtomicBoolean healed = new AtomicBoolean();
    var consumer =
        app.service
            .scans()
            .subscriptions()
            .start(
                SubscriptionOptions.named("moody-consumer")
                    .filter(EventFilter.categories("moody"))
                    .pollInterval(Duration.ofMillis(100))
                    .retryPolicy(new RetryPolicy(2, Duration.ofMillis(5), 1, Duration.ofMillis(5))),
                event -> {
                  if (!healed.get()) {
                    throw new IllegalStateException("moody today");
                  }
                });
    try {
      app.service
          .store()
          .append("moody-1", ExpectedVersion.noStream(), EventData.of("Nudged", "{\"n\":5}"));
      browser.get(app.url + "/failures");
      await().until(d -> text("failures").contains("moody-consumer"));
      await()
          .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
          .until(
              d -> {
                d.findElement(By.cssSelector("#failures button")).click();
                return true;
              });
      await().until(d -> text("detail-error").contains("moody today"));
      assertThat(text("detail-event")).contains("\"n\": 5");
      browser.findElement(By.cssSelector("#failure-detail summary")).click();
      assertThat(text("detail-stack")).contains("IllegalStateException");
      screenshot("failure-detail-desktop");

      healed.set(true);
      browser.findElement(By.id("detail-retry")).click();
      await().until(d -> text("detail-status").equals("retried"));
      assertThat(text("failures-result")).contains("1 of 1 retried successfully");
    } finally {
      consumer.stop();
    }
  }

  @Test
  void a_rebuild_asks_first_shows_a_dry_run_and_runs() throws Exception {
    browser.get(app.url + "/monitor");
    await()
        .until(
            ExpectedConditions.elementToBeClickable(
                By.cssSelector("button[aria-label='Rebuild scan-read-models']")))
        .click();
    await().until(d -> text("replay-plan").contains("events would be replayed"));
    screenshot("rebuild-dialog-desktop");
    browser.findElement(By.id("replay-confirm")).click();
    await()
        .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
        .until(
            d ->
                d.findElement(By.cssSelector("#projections tr[data-name='scan-read-models']"))
                    .getText()
                    .matches("(?s).*(rebuilding|\\d+:\\d+).*"));
  }
}
