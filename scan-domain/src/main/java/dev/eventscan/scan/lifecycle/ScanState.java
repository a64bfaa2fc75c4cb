package dev.eventscan.scan.lifecycle;

import dev.eventscan.scan.lifecycle.ScanEvent.DomainDiscoveryStarted;
import dev.eventscan.scan.lifecycle.ScanEvent.DomainsDiscovered;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanCancelled;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanCompleted;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanFailed;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanRequested;
import dev.eventscan.scan.lifecycle.ScanEvent.StepAttemptFailed;
import dev.eventscan.scan.lifecycle.ScanEvent.SubdomainDiscoveryStarted;
import dev.eventscan.scan.lifecycle.ScanEvent.SubdomainsDiscovered;
import dev.eventscan.scan.scanner.DomainDiscovery.AssociatedDomain;
import dev.eventscan.scan.scanner.SubdomainDiscovery.Finding;
import dev.eventscan.scan.scoring.ExposureScore;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A scan's state, folded from its events. Immutable: {@link #apply} returns a new state.
 *
 * @param domainStep progress of domain discovery
 * @param subdomainSteps progress of subdomain discovery per associated domain, in discovery order
 */
public record ScanState(
    String scanId,
    String target,
    String scanner,
    int maxRetries,
    ScanStatus status,
    StepProgress domainStep,
    List<AssociatedDomain> domains,
    Map<String, StepProgress> subdomainSteps,
    int failedAttempts,
    Instant requestedAt,
    Instant finishedAt,
    ExposureScore score,
    ScanStep failedStep,
    String failureReason) {

  public static final ScanState NONE =
      new ScanState(
          null,
          null,
          null,
          0,
          null,
          StepProgress.NOT_STARTED,
          List.of(),
          Map.of(),
          0,
          null,
          null,
          null,
          null,
          null);

  public ScanState {
    domains = List.copyOf(domains);
    subdomainSteps = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(subdomainSteps));
  }

  /**
   * Where one step is: the last attempt started, whether it is done and what it found, and when the
   * next attempt is due after a failure.
   */
  public record StepProgress(
      int attempt, boolean done, List<Finding> findings, boolean wildcard, Instant nextRetryAt) {
    public static final StepProgress NOT_STARTED =
        new StepProgress(0, false, List.of(), false, null);

    public StepProgress {
      findings = List.copyOf(findings);
    }

    StepProgress started(int newAttempt) {
      return new StepProgress(newAttempt, false, findings, wildcard, null);
    }

    StepProgress failed(Instant retryAt) {
      return new StepProgress(attempt, false, findings, wildcard, retryAt);
    }

    StepProgress finished(List<Finding> found, boolean isWildcard) {
      return new StepProgress(attempt, true, found, isWildcard, null);
    }
  }

  public boolean exists() {
    return status != null;
  }

  public int attemptsAllowed() {
    return maxRetries + 1;
  }

  public boolean allSubdomainStepsDone() {
    return subdomainSteps.values().stream().allMatch(StepProgress::done);
  }

  /** 0-100, for progress bars. */
  public int progressPercent() {
    if (status == null) {
      return 0;
    }
    return switch (status) {
      case STARTED -> 0;
      case DISCOVERING_DOMAINS -> 10;
      case DISCOVERING_SUBDOMAINS -> subdomainProgress();
      case COMPLETED -> 100;
      case FAILED, CANCELLED ->
          subdomainSteps.isEmpty() ? (domainStep.attempt() > 0 ? 10 : 0) : subdomainProgress();
    };
  }

  private int subdomainProgress() {
    long done = subdomainSteps.values().stream().filter(StepProgress::done).count();
    return 20 + (int) (75 * done / Math.max(1, subdomainSteps.size()));
  }

  public ScanState apply(ScanEvent event) {
    if (event instanceof ScanRequested e) {
      return new ScanState(
          e.scanId(),
          e.target(),
          e.scanner(),
          e.maxRetries(),
          ScanStatus.STARTED,
          StepProgress.NOT_STARTED,
          List.of(),
          Map.of(),
          0,
          e.at(),
          null,
          null,
          null,
          null);
    } else if (event instanceof DomainDiscoveryStarted e) {
      return with(ScanStatus.DISCOVERING_DOMAINS, domainStep.started(e.attempt()), subdomainSteps);
    } else if (event instanceof DomainsDiscovered e) {
      Map<String, StepProgress> steps = new LinkedHashMap<>();
      e.domains().forEach(d -> steps.put(d.domain(), StepProgress.NOT_STARTED));
      return new ScanState(
          scanId,
          target,
          scanner,
          maxRetries,
          ScanStatus.DISCOVERING_SUBDOMAINS,
          domainStep.finished(List.of(), false),
          e.domains(),
          steps,
          failedAttempts,
          requestedAt,
          finishedAt,
          score,
          failedStep,
          failureReason);
    } else if (event instanceof SubdomainDiscoveryStarted e) {
      return with(
          status,
          domainStep,
          replace(e.domain(), subdomainSteps.get(e.domain()).started(e.attempt())));
    } else if (event instanceof SubdomainsDiscovered e) {
      return with(
          status,
          domainStep,
          replace(e.domain(), subdomainSteps.get(e.domain()).finished(e.findings(), e.wildcard())));
    } else if (event instanceof StepAttemptFailed e) {
      ScanState counted =
          new ScanState(
              scanId,
              target,
              scanner,
              maxRetries,
              status,
              domainStep,
              domains,
              subdomainSteps,
              failedAttempts + 1,
              requestedAt,
              finishedAt,
              score,
              failedStep,
              failureReason);
      return e.step() == ScanStep.DOMAIN_DISCOVERY
          ? counted.with(status, domainStep.failed(e.nextRetryAt()), subdomainSteps)
          : counted.with(
              status,
              domainStep,
              replace(e.domain(), subdomainSteps.get(e.domain()).failed(e.nextRetryAt())));
    } else if (event instanceof ScanCompleted e) {
      return finished(ScanStatus.COMPLETED, e.at(), e.score(), null, null);
    } else if (event instanceof ScanFailed e) {
      return finished(ScanStatus.FAILED, e.at(), null, e.step(), e.reason());
    } else if (event instanceof ScanCancelled e) {
      return finished(ScanStatus.CANCELLED, e.at(), null, null, e.reason());
    }
    throw new IllegalArgumentException("unknown scan event " + event);
  }

  private ScanState with(
      ScanStatus newStatus, StepProgress newDomainStep, Map<String, StepProgress> steps) {
    return new ScanState(
        scanId,
        target,
        scanner,
        maxRetries,
        newStatus,
        newDomainStep,
        domains,
        steps,
        failedAttempts,
        requestedAt,
        finishedAt,
        score,
        failedStep,
        failureReason);
  }

  private ScanState finished(
      ScanStatus newStatus, Instant at, ExposureScore newScore, ScanStep step, String reason) {
    return new ScanState(
        scanId,
        target,
        scanner,
        maxRetries,
        newStatus,
        domainStep,
        domains,
        subdomainSteps,
        failedAttempts,
        requestedAt,
        at,
        newScore,
        step,
        reason);
  }

  private Map<String, StepProgress> replace(String domain, StepProgress progress) {
    Map<String, StepProgress> copy = new LinkedHashMap<>(subdomainSteps);
    copy.put(domain, progress);
    return copy;
  }
}
