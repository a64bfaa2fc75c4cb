package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Request bodies are parsed strictly, and every refusal says what is wrong in the caller's terms.
 */
class JsonTest {
  record Body(String target, Integer maxRetries, Double share) {}

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "null|request body must be a JSON object, not null",
        "[1]|request body must be a JSON object",
        "{\"target\":5}|field 'target' has the wrong type",
        "{\"maxRetries\":\"many\"}|field 'maxRetries' has the wrong type",
        "{\"maxRetries\":99999999999}|field 'maxRetries' is out of range",
        "{\"maxRetries\":1.5}|field 'maxRetries' has the wrong type",
        "{\"color\":1}|unknown field 'color'",
        "{\"target\":|malformed JSON at line 1, column 11",
      })
  void a_bad_body_is_refused_with_a_message_for_the_caller(String body, String message) {
    assertThatThrownBy(() -> Json.read(body, Body.class))
        .isInstanceOf(ApiException.class)
        .hasMessageStartingWith(message)
        .satisfies(e -> assertNoInternals(e.getMessage()));
  }

  @ParameterizedTest
  @CsvSource({"2000", "100000"})
  void deep_nesting_is_refused_without_naming_jacksons_limits(int depth) {
    String nested = "{\"target\":" + "{\"a\":".repeat(depth) + "1" + "}".repeat(depth + 1);
    assertThatThrownBy(() -> Json.read(nested, Body.class))
        .isInstanceOf(ApiException.class)
        .satisfies(e -> assertNoInternals(e.getMessage()));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "target is not a valid domain name: java.text.ParseException: bad|target is not a valid domain name: bad",
        "com.fasterxml.jackson.core.exc.StreamConstraintsException: too deep|too deep",
        "plain words stay|plain words stay"
      })
  void class_names_never_reach_an_answer(String message, String shown) {
    org.assertj.core.api.Assertions.assertThat(Json.withoutClassNames(message)).isEqualTo(shown);
  }

  static void assertNoInternals(String message) {
    org.assertj.core.api.Assertions.assertThat(message)
        .doesNotContainIgnoringCase("exception")
        .doesNotContain("jackson")
        .doesNotContain("StreamReadConstraints")
        .doesNotContain("java.")
        .doesNotContain("of int");
  }
}
