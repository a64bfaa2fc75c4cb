package dev.eventscan.scan.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TargetTest {
  @ParameterizedTest
  @CsvSource({
    "example.com, example.com",
    "' Example.COM. ', example.com",
    "bücher.example, xn--bcher-kva.example",
    "sub.domain-with-hyphen.co.uk, sub.domain-with-hyphen.co.uk"
  })
  void input_is_normalized(String input, String expected) {
    assertThat(Target.parse(input).domain()).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "''| blank",
        "localhost| at least two labels",
        "https://example.com| not a URL",
        "exa mple.com| not a valid domain name",
        "-bad.com| not a valid domain name",
        "10.0.0.1| not an IP address",
        "a..b| not a valid domain name"
      })
  void bad_input_is_rejected_with_a_reason(String input, String reason) {
    assertThatThrownBy(() -> Target.parse(input))
        .isInstanceOf(InvalidTargetException.class)
        .hasMessageContaining(reason.strip());
  }
}
