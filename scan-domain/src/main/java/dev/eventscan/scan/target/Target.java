package dev.eventscan.scan.target;

import java.net.IDN;
import java.util.regex.Pattern;

/**
 * A domain name to scan, normalized: IDN converted to punycode, lower case, no trailing dot. Only
 * names with at least two labels are accepted; IP addresses are not domain names.
 */
public record Target(String domain) {
  public static final int MAX_LENGTH = 253;
  private static final Pattern LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern ALL_NUMERIC_TLD = Pattern.compile("[0-9]+");

  public Target {
    if (!normalize(domain).equals(domain)) {
      throw new InvalidTargetException("target must be normalized; use Target.parse");
    }
  }

  /** Validates and normalizes user input such as {@code " Bücher.Example. "}. */
  public static Target parse(String input) {
    return new Target(normalize(input));
  }

  private static String normalize(String input) {
    if (input == null || input.isBlank()) {
      throw new InvalidTargetException("target must not be blank");
    }
    String trimmed = input.strip();
    if (trimmed.length() > 1000) {
      throw new InvalidTargetException("target is too long");
    }
    if (trimmed.contains("://") || trimmed.contains("/") || trimmed.contains("@")) {
      throw new InvalidTargetException(
          "target must be a bare domain name such as example.com, not a URL");
    }
    if (trimmed.endsWith(".")) {
      trimmed = trimmed.substring(0, trimmed.length() - 1);
    }
    String ascii;
    try {
      ascii = IDN.toASCII(trimmed, IDN.USE_STD3_ASCII_RULES).toLowerCase(java.util.Locale.ROOT);
    } catch (IllegalArgumentException e) {
      throw new InvalidTargetException("target is not a valid domain name: " + e.getMessage());
    }
    if (ascii.length() > MAX_LENGTH) {
      throw new InvalidTargetException("target must be at most " + MAX_LENGTH + " characters");
    }
    String[] labels = ascii.split("\\.", -1);
    if (labels.length < 2) {
      throw new InvalidTargetException("target must have at least two labels, such as example.com");
    }
    for (String label : labels) {
      if (!LABEL.matcher(label).matches()) {
        throw new InvalidTargetException(
            "target label '" + label + "' is not valid (letters, digits, inner hyphens, 1-63)");
      }
    }
    if (ALL_NUMERIC_TLD.matcher(labels[labels.length - 1]).matches()) {
      throw new InvalidTargetException("target must be a domain name, not an IP address");
    }
    return ascii;
  }

  @Override
  public String toString() {
    return domain;
  }
}
