package dev.eventscan.scan.process;

import dev.eventscan.scan.lifecycle.ScanState;
import dev.eventscan.scan.lifecycle.ScanState.Running;
import dev.eventscan.scan.lifecycle.ScanState.ScanRequest;
import dev.eventscan.scan.lifecycle.ScanState.StepProgress;
import dev.eventscan.scan.lifecycle.ScanStatus;
import dev.eventscan.scan.lifecycle.ScanStep;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One scanner call a scan is waiting for: which step, for which domain, which attempt, and from
 * when. Derived from the scan's state alone, so a restarted process manager finds the same work.
 *
 * @param scanner the name of the scanner the scan asked for
 * @param target the scan's target (domain discovery starts from it)
 * @param domain null for domain discovery
 * @param start true if the attempt still has to be recorded as started; false if it was recorded as
 *     started already (with the outcome that made it due, or before a restart) and only has to run
 * @param due when to run it (retries wait for their backoff)
 */
record ScanWork(
    String scanId,
    String scanner,
    String target,
    ScanStep step,
    String domain,
    int attempt,
    boolean start,
    Instant due) {

  /** A key that is the same for the same attempt, to run each at most once at a time. */
  String key() {
    return scanId + "/" + step + "/" + domain + "/" + attempt;
  }

  static List<ScanWork> pending(ScanState scan) {
    if (!(scan instanceof Running state)) {
      return List.of();
    }
    List<ScanWork> work = new ArrayList<>();
    if (state.status() == ScanStatus.STARTED) {
      work.add(next(state, ScanStep.DOMAIN_DISCOVERY, null, StepProgress.NOT_STARTED));
    } else if (state.status() == ScanStatus.DISCOVERING_DOMAINS) {
      work.add(next(state, ScanStep.DOMAIN_DISCOVERY, null, state.domainStep()));
    } else {
      for (Map.Entry<String, StepProgress> entry : state.subdomainSteps().entrySet()) {
        if (!entry.getValue().done()) {
          work.add(next(state, ScanStep.SUBDOMAIN_DISCOVERY, entry.getKey(), entry.getValue()));
        }
      }
    }
    return work;
  }

  private static ScanWork next(Running state, ScanStep step, String domain, StepProgress progress) {
    if (progress.attempt() == 0) {
      return of(state, step, domain, 1, true, null);
    }
    if (progress.nextRetryAt() != null) {
      return of(state, step, domain, progress.attempt() + 1, true, progress.nextRetryAt());
    }
    return of(state, step, domain, progress.attempt(), false, null);
  }

  private static ScanWork of(
      Running state, ScanStep step, String domain, int attempt, boolean start, Instant due) {
    ScanRequest request = state.request();
    return new ScanWork(
        request.scanId(), request.scanner(), request.target(), step, domain, attempt, start, due);
  }
}
