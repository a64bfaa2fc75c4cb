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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A scan's state, folded from its events: {@link NotRequested}, {@link Running} or {@link
 * Finished}. Immutable: {@link #apply} returns a new state. Each state holds only what exists in
 * it, so a rule can ask "is it running?" with {@code instanceof} and get the fields that go with
 * the answer.
 */
public sealed interface ScanState permits ScanState.NotRequested, ScanState.Requested {
  ScanState NONE = new NotRequested();

  ScanState apply(ScanEvent event);

  default boolean exists() {
    return this instanceof Requested;
  }

  /** No event yet: the stream is empty. */
  record NotRequested() implements ScanState {
    @Override
    public ScanState apply(ScanEvent event) {
      if (event instanceof ScanRequested e) {
        return Running.started(
            new ScanRequest(e.scanId(), e.target(), e.scanner(), e.maxRetries(), e.at()));
      }
      throw new IllegalArgumentException("a scan starts with its request, not " + event);
    }
  }

  /** What was asked for: fixed from the first event on. */
  record ScanRequest(
      String scanId, String target, String scanner, int maxRetries, Instant requestedAt) {
    public int attemptsAllowed() {
      return maxRetries + 1;
    }
  }

  /** A scan that exists: running or finished. */
  sealed interface Requested extends ScanState permits Running, Finished {
    ScanRequest request();

    ScanStatus status();

    /** 0-100, for progress bars. */
    int progressPercent();

    default String scanId() {
      return request().scanId();
    }
  }

  /**
   * A scan between its request and its end.
   *
   * @param status {@code STARTED}, {@code DISCOVERING_DOMAINS} or {@code DISCOVERING_SUBDOMAINS}
   * @param domainStep progress of domain discovery
   * @param subdomainSteps progress of subdomain discovery per associated domain, in discovery order
   */
  record Running(
      ScanRequest request,
      ScanStatus status,
      StepProgress domainStep,
      List<AssociatedDomain> domains,
      Map<String, StepProgress> subdomainSteps,
      int failedAttempts)
      implements Requested {

    public Running {
      domains = List.copyOf(domains);
      subdomainSteps = Collections.unmodifiableMap(new LinkedHashMap<>(subdomainSteps));
    }

    static Running started(ScanRequest request) {
      return new Running(
          request, ScanStatus.STARTED, StepProgress.NOT_STARTED, List.of(), Map.of(), 0);
    }

    public boolean allSubdomainStepsDone() {
      return subdomainSteps.values().stream().allMatch(StepProgress::done);
    }

    /** The progress of subdomain discovery for a domain, or null when there is none. */
    public StepProgress subdomainStep(String domain) {
      return status == ScanStatus.DISCOVERING_SUBDOMAINS ? subdomainSteps.get(domain) : null;
    }

    @Override
    public int progressPercent() {
      return switch (status) {
        case STARTED -> 0;
        case DISCOVERING_DOMAINS -> 10;
        default -> subdomainProgress();
      };
    }

    int subdomainProgress() {
      if (subdomainSteps.isEmpty()) {
        return domainStep.attempt() > 0 ? 10 : 0;
      }
      long done = subdomainSteps.values().stream().filter(StepProgress::done).count();
      return 20 + (int) (75 * done / subdomainSteps.size());
    }

    @Override
    public ScanState apply(ScanEvent event) {
      if (event instanceof DomainDiscoveryStarted e) {
        return withDomainStep(ScanStatus.DISCOVERING_DOMAINS, domainStep.started(e.attempt()));
      } else if (event instanceof DomainsDiscovered e) {
        Map<String, StepProgress> steps = new LinkedHashMap<>();
        e.domains().forEach(d -> steps.put(d.domain(), StepProgress.NOT_STARTED));
        return new Running(
            request,
            ScanStatus.DISCOVERING_SUBDOMAINS,
            domainStep.finished(List.of(), false),
            e.domains(),
            steps,
            failedAttempts);
      } else if (event instanceof SubdomainDiscoveryStarted e) {
        return withSubdomainStep(e.domain(), subdomainSteps.get(e.domain()).started(e.attempt()));
      } else if (event instanceof SubdomainsDiscovered e) {
        return withSubdomainStep(
            e.domain(), subdomainSteps.get(e.domain()).finished(e.findings(), e.wildcard()));
      } else if (event instanceof StepAttemptFailed e) {
        Running counted =
            new Running(request, status, domainStep, domains, subdomainSteps, failedAttempts + 1);
        return e.step() == ScanStep.DOMAIN_DISCOVERY
            ? counted.withDomainStep(status, domainStep.failed(e.nextRetryAt()))
            : counted.withSubdomainStep(
                e.domain(), subdomainSteps.get(e.domain()).failed(e.nextRetryAt()));
      } else if (event instanceof ScanCompleted e) {
        return new Finished(this, ScanStatus.COMPLETED, e.at(), e.score(), null, null);
      } else if (event instanceof ScanFailed e) {
        return new Finished(this, ScanStatus.FAILED, e.at(), null, e.step(), e.reason());
      } else if (event instanceof ScanCancelled e) {
        return new Finished(this, ScanStatus.CANCELLED, e.at(), null, null, e.reason());
      }
      throw new IllegalArgumentException("a running scan cannot take " + event);
    }

    private Running withDomainStep(ScanStatus newStatus, StepProgress step) {
      return new Running(request, newStatus, step, domains, subdomainSteps, failedAttempts);
    }

    private Running withSubdomainStep(String domain, StepProgress progress) {
      Map<String, StepProgress> steps = new LinkedHashMap<>(subdomainSteps);
      steps.put(domain, progress);
      return new Running(request, status, domainStep, domains, steps, failedAttempts);
    }
  }

  /**
   * A completed, failed or cancelled scan.
   *
   * @param last the scan as it was when it ended (its steps, domains and failed attempts)
   * @param score only for {@code COMPLETED}
   * @param failedStep only for {@code FAILED}
   * @param reason why it failed or was cancelled
   */
  record Finished(
      Running last,
      ScanStatus status,
      Instant finishedAt,
      ExposureScore score,
      ScanStep failedStep,
      String reason)
      implements Requested {

    @Override
    public ScanRequest request() {
      return last.request();
    }

    @Override
    public int progressPercent() {
      return status == ScanStatus.COMPLETED ? 100 : last.subdomainProgress();
    }

    /** The end is final: decisions never produce an event after it, so nothing changes it. */
    @Override
    public ScanState apply(ScanEvent event) {
      return this;
    }
  }

  /**
   * Where one step is: the last attempt started, whether it is done and what it found, and when the
   * next attempt is due after a failure.
   */
  record StepProgress(
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
}
