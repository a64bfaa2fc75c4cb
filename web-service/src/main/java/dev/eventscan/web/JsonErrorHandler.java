package dev.eventscan.web;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty answers some requests itself, before any route runs: a path with {@code /../}, a NUL or bad
 * UTF-8, a URI or headers too large (414, 431), unparseable requests. Those answers get the same
 * JSON error body as every other, instead of Jetty's HTML page (which also echoes the URI).
 */
final class JsonErrorHandler extends ErrorHandler {
  @Override
  public boolean errorPageForMethod(String method) {
    return true; // every method gets a body, CONNECT and made-up ones included
  }

  @Override
  protected void generateResponse(
      Request request,
      Response response,
      int status,
      String message,
      Throwable cause,
      Callback callback) {
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.write(true, body(status, message), callback);
  }

  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    fields.put(HttpHeader.CONTENT_TYPE, "application/json");
    return body(status, reason);
  }

  private static ByteBuffer body(int status, String reason) {
    String json =
        Json.error(
            switch (status) {
              case 400 -> "bad_request";
              case 404 -> "not_found";
              case 405 -> "method_not_allowed";
              case 408 -> "request_timeout";
              case 413 -> "payload_too_large";
              case 414 -> "uri_too_long";
              case 431 -> "headers_too_large";
              case 500 -> "internal_error";
              default -> "http_" + status;
            },
            switch (status) {
              case 400 ->
                  "the request could not be read"
                      + (isPlainWords(reason) ? " (" + reason.toLowerCase() + ")" : "")
                      + ": check the method, the path and its percent-encoded UTF-8, and the"
                      + " headers";
              case 413 -> "request body must be at most " + WebApp.MAX_BODY_BYTES + " bytes";
              case 414 -> "the request URI is too long";
              case 431 -> "the request headers are too large";
              case 500 -> "unexpected failure; see the service log";
              default -> "the request could not be handled (HTTP " + status + ")";
            });
    return ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8));
  }

  /** Jetty's reasons ("Ambiguous URI empty segment") help; anything else is left out. */
  private static boolean isPlainWords(String reason) {
    return reason != null
        && reason.length() <= 60
        && reason.matches("[A-Za-z][A-Za-z0-9 -]*")
        && !reason.equalsIgnoreCase("Bad Request");
  }
}
