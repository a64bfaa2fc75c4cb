package dev.eventscan.web;

import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Query parameters, strictly: a parameter that cannot be decoded or is out of range is a 400, never
 * silently dropped (a dropped {@code status=%zz} filter used to return everything).
 */
final class QueryParams {
  private QueryParams() {}

  /**
   * Every parameter must be valid percent-encoded UTF-8 without control characters (PostgreSQL text
   * cannot hold NUL, and no parameter of ours needs the others).
   */
  static void validate(Context ctx) {
    String query = ctx.queryString();
    if (query == null || query.isEmpty()) {
      return;
    }
    for (String pair : query.split("&")) {
      int equals = pair.indexOf('=');
      String name = decode(equals < 0 ? pair : pair.substring(0, equals), null);
      if (equals >= 0) {
        decode(pair.substring(equals + 1), name);
      }
    }
  }

  private static String decode(String raw, String parameter) {
    String what =
        parameter == null ? "a query parameter name" : "query parameter '" + parameter + "'";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        int high = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
        int low = high < 0 ? -1 : Character.digit(raw.charAt(i + 2), 16);
        if (low < 0) {
          throw ApiException.badRequest(what + " has a bad percent-encoding");
        }
        bytes.write(high * 16 + low);
        i += 2;
      } else if (c == '+') {
        bytes.write(' ');
      } else if (c < 0x80) {
        bytes.write(c);
      } else {
        byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        bytes.write(encoded, 0, encoded.length);
      }
    }
    String text;
    try {
      text = strictUtf8(bytes.toByteArray());
    } catch (CharacterCodingException e) {
      throw ApiException.badRequest(what + " is not valid UTF-8");
    }
    if (hasControlCharacter(text)) {
      throw ApiException.badRequest(what + " contains a control character");
    }
    return parameter == null ? abbreviate(text) : text;
  }

  /** Decodes UTF-8, failing on malformed input instead of substituting U+FFFD. */
  static String strictUtf8(byte[] bytes) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes))
        .toString();
  }

  static boolean hasControlCharacter(String text) {
    return text.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f);
  }

  /** A whole number within {@code [min, max]}, or {@code fallback} when absent or blank. */
  static int intParam(Context ctx, String name, int fallback, int min, int max) {
    String text = ctx.queryParam(name);
    if (text == null || text.isBlank()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(text.strip());
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // the same answer as out of range, below
    }
    throw ApiException.badRequest(name + " must be a whole number between " + min + " and " + max);
  }

  /** {@code true} or {@code false}; absent is false. */
  static boolean booleanParam(Context ctx, String name) {
    String text = optional(ctx, name);
    if (text == null || text.equals("false")) {
      return false;
    }
    if (text.equals("true")) {
      return true;
    }
    throw ApiException.badRequest(name + " must be true or false");
  }

  /** The parameter, or null when absent or blank. */
  static String optional(Context ctx, String name) {
    String value = ctx.queryParam(name);
    return value == null || value.isBlank() ? null : value;
  }

  private static String abbreviate(String text) {
    return text.length() > 40 ? text.substring(0, 40) + "..." : text;
  }
}
