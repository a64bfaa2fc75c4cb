package dev.eventscan.scan.scanner;

import dev.eventscan.scan.scanner.DomainDiscovery.AssociatedDomain;
import dev.eventscan.scan.scanner.SubdomainDiscovery.Finding;
import dev.eventscan.scan.target.Target;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Scans with real DNS queries sent straight to one resolver (no cache, so repeated scans see
 * changes). Associated domains come from the target's own records: the target, its MX, NS and CNAME
 * targets' domains and its SPF {@code include:} domains. Subdomains come from resolving a wordlist
 * (A, AAAA, CNAME) with bounded concurrency, after a wildcard check.
 */
public final class DnsScanner implements DomainScanner {
  private static final int[] SUBDOMAIN_TYPES = {Type.A, Type.AAAA, Type.CNAME};

  /** Second-level public suffixes common enough to matter; a full public suffix list is not. */
  private static final Set<String> TWO_LABEL_SUFFIXES =
      Set.of(
          "co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au", "co.jp", "co.nz", "com.br",
          "co.in", "co.za", "com.cn", "com.tr", "com.mx");

  private final SimpleResolver resolver;
  private final List<String> wordlist;
  private final int concurrency;

  public DnsScanner(InetSocketAddress resolverAddress, Duration queryTimeout, int concurrency) {
    this(resolverAddress, queryTimeout, concurrency, Wordlist.DEFAULT);
  }

  public DnsScanner(
      InetSocketAddress resolverAddress,
      Duration queryTimeout,
      int concurrency,
      List<String> wordlist) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1");
    }
    this.resolver = new SimpleResolver(resolverAddress);
    this.resolver.setTimeout(queryTimeout);
    this.concurrency = concurrency;
    this.wordlist = List.copyOf(wordlist);
  }

  @Override
  public String name() {
    return "dns";
  }

  @Override
  public DomainDiscovery discoverDomains(Target target) {
    Map<String, AssociatedDomain> domains = new LinkedHashMap<>();
    domains.put(target.domain(), new AssociatedDomain(target.domain(), "TARGET"));
    try {
      for (Record record : query(target.domain(), Type.MX)) {
        if (record instanceof MXRecord mx) {
          addDomainOf(domains, mx.getTarget(), "MX");
        }
      }
      for (Record record : query(target.domain(), Type.NS)) {
        if (record instanceof NSRecord ns) {
          addDomainOf(domains, ns.getTarget(), "NS");
        }
      }
      for (Record record : query(target.domain(), Type.CNAME)) {
        if (record instanceof CNAMERecord cname) {
          addDomainOf(domains, cname.getTarget(), "CNAME");
        }
      }
      for (Record record : query(target.domain(), Type.TXT)) {
        if (record instanceof TXTRecord txt) {
          String text = String.join("", txt.getStrings());
          if (text.startsWith("v=spf1")) {
            for (String term : text.split("\\s+")) {
              if (term.startsWith("include:")) {
                addDomainOf(domains, term.substring("include:".length()), "SPF");
              }
            }
          }
        }
      }
    } catch (IOException e) {
      throw new ScannerFailedException(
          "DNS lookup for " + target + " failed: " + e.getMessage(), e);
    }
    return new DomainDiscovery(new ArrayList<>(domains.values()));
  }

  @Override
  public SubdomainDiscovery discoverSubdomains(String domain) {
    List<Finding> wildcardAnswers;
    try {
      wildcardAnswers = resolve(UUID.randomUUID().toString().substring(0, 12) + "." + domain);
    } catch (IOException e) {
      throw new ScannerFailedException(
          "DNS lookup under " + domain + " failed: " + e.getMessage(), e);
    }
    boolean wildcard = !wildcardAnswers.isEmpty();
    Set<String> wildcardValues =
        wildcardAnswers.stream().map(Finding::value).collect(java.util.stream.Collectors.toSet());

    ExecutorService pool = Executors.newFixedThreadPool(concurrency, daemonThreads());
    AtomicInteger failures = new AtomicInteger();
    try {
      List<Future<List<Finding>>> lookups = new ArrayList<>();
      for (String word : wordlist) {
        lookups.add(
            pool.submit(
                () -> {
                  try {
                    return resolve(word + "." + domain);
                  } catch (IOException e) {
                    failures.incrementAndGet();
                    return List.of();
                  }
                }));
      }
      List<Finding> findings = new ArrayList<>();
      for (Future<List<Finding>> lookup : lookups) {
        for (Finding finding : lookup.get()) {
          // Under a wildcard every name resolves; only answers that differ are real findings.
          if (!wildcard || !wildcardValues.contains(finding.value())) {
            findings.add(finding);
          }
        }
      }
      if (failures.get() == wordlist.size() && !wordlist.isEmpty()) {
        throw new ScannerFailedException("every DNS lookup under " + domain + " failed");
      }
      return new SubdomainDiscovery(domain, findings, wildcard);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ScannerFailedException("subdomain discovery for " + domain + " was interrupted");
    } catch (ExecutionException e) {
      throw new ScannerFailedException(
          "subdomain discovery for " + domain + " failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  private List<Finding> resolve(String name) throws IOException {
    List<Finding> findings = new ArrayList<>();
    for (int type : SUBDOMAIN_TYPES) {
      for (Record record : query(name, type)) {
        if (record instanceof ARecord a) {
          findings.add(new Finding(name, "A", a.getAddress().getHostAddress()));
        } else if (record instanceof AAAARecord aaaa) {
          findings.add(new Finding(name, "AAAA", aaaa.getAddress().getHostAddress()));
        } else if (record instanceof CNAMERecord cname && type == Type.CNAME) {
          findings.add(new Finding(name, "CNAME", withoutDot(cname.getTarget())));
        }
      }
    }
    return findings;
  }

  private List<Record> query(String name, int type) throws IOException {
    Name absolute;
    try {
      absolute = Name.fromString(name.endsWith(".") ? name : name + ".");
    } catch (TextParseException e) {
      return List.of();
    }
    Message response = resolver.send(Message.newQuery(Record.newRecord(absolute, type, DClass.IN)));
    int rcode = response.getRcode();
    if (rcode == Rcode.NXDOMAIN) {
      return List.of();
    }
    if (rcode != Rcode.NOERROR) {
      throw new IOException("resolver answered " + Rcode.string(rcode) + " for " + name);
    }
    return response.getSection(Section.ANSWER);
  }

  private static void addDomainOf(
      Map<String, AssociatedDomain> domains, Object name, String source) {
    String host = withoutDot(name).toLowerCase(java.util.Locale.ROOT);
    String registered = registeredDomain(host);
    if (registered != null) {
      domains.putIfAbsent(registered, new AssociatedDomain(registered, source));
    }
  }

  /** The registrable part of a host name: its last two labels, three under a known suffix. */
  static String registeredDomain(String host) {
    String[] labels = host.split("\\.");
    if (labels.length < 2) {
      return null;
    }
    String lastTwo = labels[labels.length - 2] + "." + labels[labels.length - 1];
    if (TWO_LABEL_SUFFIXES.contains(lastTwo) && labels.length >= 3) {
      return labels[labels.length - 3] + "." + lastTwo;
    }
    return lastTwo;
  }

  private static String withoutDot(Object name) {
    String text = name.toString();
    return text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
  }

  private static java.util.concurrent.ThreadFactory daemonThreads() {
    AtomicInteger counter = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, "dns-lookup-" + counter.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
