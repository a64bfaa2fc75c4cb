package dev.eventscan.scan.lifecycle;

import dev.eventscan.scan.lifecycle.ScanCommand.Cancel;
import dev.eventscan.scan.lifecycle.ScanCommand.RecordDomains;
import dev.eventscan.scan.lifecycle.ScanCommand.RecordStepFailure;
import dev.eventscan.scan.lifecycle.ScanCommand.RecordSubdomains;
import dev.eventscan.scan.lifecycle.ScanCommand.RequestScan;
import dev.eventscan.scan.lifecycle.ScanCommand.StartDomainDiscovery;
import dev.eventscan.scan.lifecycle.ScanCommand.StartSubdomainDiscovery;
import dev.eventscan.scan.lifecycle.ScanEvent.DomainDiscoveryStarted;
import dev.eventscan.scan.lifecycle.ScanEvent.DomainsDiscovered;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanCancelled;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanCompleted;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanFailed;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanRequested;
import dev.eventscan.scan.lifecycle.ScanEvent.StepAttemptFailed;
import dev.eventscan.scan.lifecycle.ScanEvent.SubdomainDiscoveryStarted;
import dev.eventscan.scan.lifecycle.ScanEvent.SubdomainsDiscovered;
import dev.eventscan.scan.lifecycle.ScanState.Finished;
import dev.eventscan.scan.lifecycle.ScanState.Requested;
import dev.eventscan.scan.lifecycle.ScanState.Running;
import dev.eventscan.scan.lifecycle.ScanState.StepProgress;
import dev.eventscan.scan.scanner.SubdomainDiscovery.Finding;
import dev.eventscan.scan.scoring.ExposureScoring;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The scan's rules: which command is valid in which state and what it produces. Commands that
 * repeat work already recorded (a step re-run after a crash, a result arriving after a cancel)
 * produce no events, so the process manager can always safely retry.
 */
public final class ScanDecisions {
  public static final int MAX_RETRIES_LIMIT = 10;

  private ScanDecisions() {}

  public static List<ScanEvent> decide(String scanId, ScanState state, ScanCommand command) {
    if (command instanceof RequestScan c) {
      return request(scanId, state, c);
    }
    if (!(state instanceof Requested requested)) {
      throw new InvalidScanTransitionException(scanId, null, "it was never requested");
    }
    if (command instanceof Cancel c) {
      return cancel(requested, c);
    }
    if (!(state instanceof Running running)) {
      return List.of(); // late results after a cancel or a failure are ignored
    }
    if (command instanceof StartDomainDiscovery c) {
      boolean due =
          (running.status() == ScanStatus.STARTED && c.attempt() == 1)
              || (running.status() == ScanStatus.DISCOVERING_DOMAINS
                  && c.attempt() == running.domainStep().attempt() + 1
                  && running.domainStep().nextRetryAt() != null);
      return due ? List.of(new DomainDiscoveryStarted(scanId, c.attempt(), c.at())) : List.of();
    } else if (command instanceof RecordDomains c) {
      if (running.status() != ScanStatus.DISCOVERING_DOMAINS) {
        return List.of();
      }
      List<ScanEvent> events = new ArrayList<>();
      DomainsDiscovered discovered = new DomainsDiscovered(scanId, c.domains(), c.at());
      events.add(discovered);
      if (c.domains().isEmpty()) {
        events.add(completion((Running) running.apply(discovered), c.at()));
      }
      return events;
    } else if (command instanceof StartSubdomainDiscovery c) {
      StepProgress step = running.subdomainStep(c.domain());
      boolean due =
          step != null
              && !step.done()
              && c.attempt() == step.attempt() + 1
              && (step.attempt() == 0 || step.nextRetryAt() != null);
      return due
          ? List.of(new SubdomainDiscoveryStarted(scanId, c.domain(), c.attempt(), c.at()))
          : List.of();
    } else if (command instanceof RecordSubdomains c) {
      StepProgress step = running.subdomainStep(c.domain());
      if (step == null || step.done()) {
        return List.of();
      }
      SubdomainsDiscovered discovered =
          new SubdomainsDiscovered(scanId, c.domain(), c.findings(), c.wildcard(), c.at());
      Running after = (Running) running.apply(discovered);
      return after.allSubdomainStepsDone()
          ? List.of(discovered, completion(after, c.at()))
          : List.of(discovered);
    } else if (command instanceof RecordStepFailure c) {
      return failure(scanId, running, c);
    }
    throw new IllegalArgumentException("unknown scan command " + command);
  }

  private static List<ScanEvent> request(String scanId, ScanState state, RequestScan c) {
    if (state instanceof Requested requested) {
      throw new InvalidScanTransitionException(
          scanId, requested.status(), "it was already requested");
    }
    if (c.maxRetries() < 0 || c.maxRetries() > MAX_RETRIES_LIMIT) {
      throw new InvalidScanCommandException(
          "maxRetries must be between 0 and " + MAX_RETRIES_LIMIT + ", got " + c.maxRetries());
    }
    return List.of(
        new ScanRequested(scanId, c.target().domain(), c.scanner(), c.maxRetries(), c.at()));
  }

  private static List<ScanEvent> cancel(Requested state, Cancel c) {
    if (state.status() == ScanStatus.CANCELLED) {
      return List.of();
    }
    if (state instanceof Finished) {
      throw new InvalidScanTransitionException(
          state.scanId(), state.status(), "a finished scan cannot be cancelled");
    }
    return List.of(new ScanCancelled(state.scanId(), c.reason(), c.at()));
  }

  private static List<ScanEvent> failure(String scanId, Running state, RecordStepFailure c) {
    StepProgress step =
        c.step() == ScanStep.DOMAIN_DISCOVERY
            ? state.domainStep()
            : state.subdomainStep(c.domain());
    // Only the running attempt can fail, once.
    if (step == null
        || step.done()
        || step.attempt() != c.attempt()
        || step.nextRetryAt() != null) {
      return List.of();
    }
    boolean attemptsLeft = c.attempt() < state.request().attemptsAllowed();
    Instant retryAt = attemptsLeft ? c.at().plus(c.retryDelay()) : null;
    StepAttemptFailed failed =
        new StepAttemptFailed(
            scanId, c.step(), c.domain(), c.attempt(), c.error(), retryAt, c.at());
    if (attemptsLeft) {
      return List.of(failed);
    }
    String where = c.domain() == null ? "" : " for " + c.domain();
    return List.of(
        failed,
        new ScanFailed(
            scanId,
            c.step(),
            c.step().name().toLowerCase().replace('_', ' ')
                + where
                + " failed after "
                + c.attempt()
                + " attempts: "
                + c.error(),
            c.at()));
  }

  private static ScanCompleted completion(Running state, Instant at) {
    List<String> subdomains = new ArrayList<>();
    boolean wildcard = false;
    for (StepProgress step : state.subdomainSteps().values()) {
      step.findings().stream().map(Finding::subdomain).forEach(subdomains::add);
      wildcard |= step.wildcard();
    }
    return new ScanCompleted(
        state.scanId(),
        ExposureScoring.score(
            new ExposureScoring.Findings(
                subdomains, state.domains().size(), wildcard, state.failedAttempts(), 0)),
        at);
  }
}
