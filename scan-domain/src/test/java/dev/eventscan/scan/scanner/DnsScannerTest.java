package dev.eventscan.scan.scanner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.scan.scanner.DomainDiscovery.AssociatedDomain;
import dev.eventscan.scan.scanner.SubdomainDiscovery.Finding;
import dev.eventscan.scan.target.Target;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.TXTRecord;

/** Against a real DNS server on loopback (the internet is out of reach and out of our control). */
class DnsScannerTest {
  private LoopbackDnsServer dns;
  private DnsScanner scanner;

  @BeforeEach
  void startDns() throws Exception {
    dns = new LoopbackDnsServer();
    scanner =
        new DnsScanner(
            dns.address(), Duration.ofSeconds(2), 4, List.of("www", "admin", "vpn", "nothing"));
  }

  @AfterEach
  void stopDns() {
    dns.close();
  }

  @Test
  void associated_domains_come_from_mx_ns_cname_and_spf_records() throws Exception {
    Name target = name("example.test");
    dns.add(new MXRecord(target, DClass.IN, 60, 10, name("mx1.mailhost.net")))
        .add(new NSRecord(target, DClass.IN, 60, name("ns1.dnsprovider.org")))
        .add(new NSRecord(target, DClass.IN, 60, name("ns2.example.test")))
        .add(
            new TXTRecord(
                target, DClass.IN, 60, "v=spf1 include:_spf.sender.co.uk include:mailer.io ~all"))
        .add(new TXTRecord(target, DClass.IN, 60, "google-site-verification=abc"));

    DomainDiscovery discovery = scanner.discoverDomains(Target.parse("example.test"));

    assertThat(discovery.domains())
        .containsExactly(
            new AssociatedDomain("example.test", "TARGET"),
            new AssociatedDomain("mailhost.net", "MX"),
            new AssociatedDomain("dnsprovider.org", "NS"),
            new AssociatedDomain("sender.co.uk", "SPF"),
            new AssociatedDomain("mailer.io", "SPF"));
  }

  @Test
  void subdomains_resolve_from_the_wordlist_with_their_records() throws Exception {
    dns.add(new ARecord(name("www.example.test"), DClass.IN, 60, ip("192.0.2.1")))
        .add(new AAAARecord(name("www.example.test"), DClass.IN, 60, ip("2001:db8::1")))
        .add(new CNAMERecord(name("admin.example.test"), DClass.IN, 60, name("lb.hosting.net")));

    SubdomainDiscovery discovery = scanner.discoverSubdomains("example.test");

    assertThat(discovery.wildcard()).isFalse();
    assertThat(discovery.findings())
        .containsExactlyInAnyOrder(
            new Finding("www.example.test", "A", "192.0.2.1"),
            new Finding("www.example.test", "AAAA", "2001:db8:0:0:0:0:0:1"),
            new Finding("admin.example.test", "CNAME", "lb.hosting.net"));
  }

  @Test
  void wildcard_hits_are_discarded_and_the_wildcard_noted() throws Exception {
    dns.wildcard("wild.test", "192.0.2.99")
        .add(new ARecord(name("vpn.wild.test"), DClass.IN, 60, ip("192.0.2.7")));

    SubdomainDiscovery discovery = scanner.discoverSubdomains("wild.test");

    assertThat(discovery.wildcard()).isTrue();
    assertThat(discovery.findings())
        .containsExactly(new Finding("vpn.wild.test", "A", "192.0.2.7"));
  }

  @Test
  void an_unreachable_resolver_fails_the_step_within_the_timeout() throws Exception {
    InetSocketAddress silent = dns.address();
    dns.close();
    DnsScanner blind = new DnsScanner(silent, Duration.ofMillis(200), 2, List.of("www"));

    assertThatThrownBy(() -> blind.discoverDomains(Target.parse("example.test")))
        .isInstanceOf(ScannerFailedException.class)
        .hasMessageContaining("example.test");
    assertThatThrownBy(() -> blind.discoverSubdomains("example.test"))
        .isInstanceOf(ScannerFailedException.class);
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void a_resolver_that_never_answers_times_out_as_a_failed_step() throws Exception {
    try (java.net.DatagramSocket silent =
        new java.net.DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      DnsScanner waiting =
          new DnsScanner(
              (InetSocketAddress) silent.getLocalSocketAddress(),
              Duration.ofMillis(300),
              2,
              List.of("www"));

      assertThatThrownBy(() -> waiting.discoverSubdomains("example.test"))
          .isInstanceOf(ScannerFailedException.class);
    }
  }

  private static Name name(String text) throws Exception {
    return Name.fromString(text + ".");
  }

  private static InetAddress ip(String text) throws Exception {
    return InetAddress.getByName(text);
  }
}
