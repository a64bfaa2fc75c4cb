package dev.eventscan.scan.scoring;

import dev.eventscan.scan.scoring.ExposureScore.Component;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The exposure score formula (also documented in the README):
 *
 * <ul>
 *   <li>surface: 2 points per distinct subdomain, at most 40;
 *   <li>sensitive names: 8 points per subdomain whose labels name an internal service (admin, dev,
 *       staging, test, vpn, git, jenkins, ...), at most 40;
 *   <li>wildcard DNS: 10 points if any domain answers every name;
 *   <li>associated domains: 2 points per domain beyond the target, at most 10.
 * </ul>
 *
 * The sum is capped at 100. Confidence starts at 1.0, loses 0.05 per failed attempt and 0.25 per
 * domain whose subdomains could not be discovered, and never goes below 0.
 */
public final class ExposureScoring {
  public static final Set<String> SENSITIVE_LABELS =
      Set.of(
          "admin",
          "dev",
          "staging",
          "stage",
          "test",
          "qa",
          "uat",
          "vpn",
          "remote",
          "git",
          "gitlab",
          "jenkins",
          "ci",
          "build",
          "jira",
          "db",
          "sql",
          "mysql",
          "postgres",
          "redis",
          "grafana",
          "kibana",
          "intranet",
          "internal",
          "backup");

  private ExposureScoring() {}

  /** The facts a score is computed from. */
  public record Findings(
      Collection<String> subdomains,
      int associatedDomains,
      boolean wildcard,
      int failedAttempts,
      int domainsNotScanned) {}

  public static ExposureScore score(Findings findings) {
    Set<String> subdomains = new TreeSet<>();
    findings.subdomains().forEach(s -> subdomains.add(s.toLowerCase(Locale.ROOT)));
    List<String> sensitive = subdomains.stream().filter(ExposureScoring::isSensitive).toList();

    List<Component> parts = new ArrayList<>();
    parts.add(
        new Component(
            "surface", Math.min(40, 2 * subdomains.size()), subdomains.size() + " subdomains"));
    parts.add(
        new Component(
            "sensitive-names",
            Math.min(40, 8 * sensitive.size()),
            sensitive.isEmpty() ? "none" : String.join(", ", sensitive)));
    parts.add(
        new Component(
            "wildcard-dns", findings.wildcard() ? 10 : 0, findings.wildcard() ? "yes" : "no"));
    int extraDomains = Math.max(0, findings.associatedDomains() - 1);
    parts.add(
        new Component(
            "associated-domains",
            Math.min(10, 2 * extraDomains),
            extraDomains + " beyond the target"));

    int total = Math.min(100, parts.stream().mapToInt(Component::points).sum());
    double confidence =
        Math.max(0, 1.0 - 0.05 * findings.failedAttempts() - 0.25 * findings.domainsNotScanned());
    return new ExposureScore(total, Math.round(confidence * 100) / 100.0, parts);
  }

  static boolean isSensitive(String subdomain) {
    int end = subdomain.indexOf('.');
    // The first label holds no '.': split on '-' alone, which String.split does without compiling
    // a regular expression (a "[-.]" pattern was compiled per subdomain of every completed scan).
    String[] labels = (end < 0 ? subdomain : subdomain.substring(0, end)).split("-");
    for (String label : labels) {
      if (SENSITIVE_LABELS.contains(label)) {
        return true;
      }
    }
    return false;
  }
}
