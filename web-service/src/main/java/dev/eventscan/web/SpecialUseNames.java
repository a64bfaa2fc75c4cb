package dev.eventscan.web;

import dev.eventscan.scan.target.Target;
import java.util.List;

/**
 * Scan targets must be public DNS names. A special-use or private name (a printer on {@code
 * .local}, cloud metadata on {@code .internal}) would make the service probe the network it runs in
 * on behalf of whoever asks. Sources: the IANA special-use domain registry (RFC 6761, 6762, 7686,
 * 8375, 9476), ICANN's {@code .internal} reservation, and the private top-level names RFC 6762
 * appendix G lists as common. {@code .example} stays allowed: it is reserved for documentation,
 * resolves nowhere, and is what the demos and simulator use.
 */
final class SpecialUseNames {
  private static final List<String> SUFFIXES =
      List.of(
          "localhost",
          "local",
          "internal",
          "arpa",
          "invalid",
          "test",
          "onion",
          "alt",
          "intranet",
          "private",
          "corp",
          "home",
          "lan");

  private SpecialUseNames() {}

  /** Refuses a normalized target under a special-use or private suffix, naming the suffix. */
  static void requirePublic(Target target) {
    String domain = target.domain();
    for (String suffix : SUFFIXES) {
      if (domain.equals(suffix) || domain.endsWith("." + suffix)) {
        throw new ApiException(
            400,
            "invalid_target",
            "target "
                + domain
                + " is under ."
                + suffix
                + ", a special-use or private name that is not on the public internet; scan a"
                + " public domain name");
      }
    }
  }
}
