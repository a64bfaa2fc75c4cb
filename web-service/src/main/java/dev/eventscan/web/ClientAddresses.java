package dev.eventscan.web;

import io.javalin.http.Context;

/**
 * The client address that per-client limits count by: the connection's peer, or, when {@code
 * CLIENT_ADDRESS_HEADER} names a header that a trusted proxy in front sets (such as nginx's {@code
 * X-Real-IP}), that header's value. Only for a service reachable solely through that proxy: anyone
 * reaching a node directly could send any value.
 */
final class ClientAddresses {
  private final String header;

  /**
   * @param header the header to trust, or null to use the connection's peer
   */
  ClientAddresses(String header) {
    this.header = header;
  }

  String of(Context ctx) {
    if (header == null) {
      return ctx.ip();
    }
    String value = ctx.header(header);
    if (value == null || value.isBlank()) {
      return ctx.ip();
    }
    // A list (X-Forwarded-For): the last entry is what the nearest proxy saw, the rest is hearsay.
    String[] hops = value.split(",");
    return hops[hops.length - 1].strip();
  }
}
