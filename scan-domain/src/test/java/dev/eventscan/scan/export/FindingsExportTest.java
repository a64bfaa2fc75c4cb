package dev.eventscan.scan.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.scan.export.FindingsExport.Row;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class FindingsExportTest {
  private static final Instant AT = Instant.parse("2026-11-23T10:00:00Z");

  @Test
  void csv_has_a_header_quotes_commas_and_defuses_formulas() {
    String csv =
        FindingsExport.toCsv(
            List.of(
                new Row("a.com", "www.a.com", "A", "10.0.0.1", AT),
                new Row("a.com", "x.a.com", "CNAME", "=cmd|' /C calc'!A0", AT),
                new Row("a.com", "y.a.com", "CNAME", "has,comma \"quoted\"", AT)));

    assertThat(csv.split("\r\n"))
        .containsExactly(
            "domain,subdomain,record_type,value,discovered_at",
            "a.com,www.a.com,A,10.0.0.1,2026-11-23T10:00:00Z",
            "a.com,x.a.com,CNAME,'=cmd|' /C calc'!A0,2026-11-23T10:00:00Z",
            "a.com,y.a.com,CNAME,\"has,comma \"\"quoted\"\"\",2026-11-23T10:00:00Z");
  }

  @Test
  void json_names_the_scan_and_lists_findings() {
    String json =
        FindingsExport.toJson(
            "s1", "a.com", List.of(new Row("a.com", "www.a.com", "A", "1.2.3.4", AT)));
    assertThat(json)
        .contains("\"scanId\" : \"s1\"")
        .contains("\"subdomain\" : \"www.a.com\"")
        .contains("\"discoveredAt\" : \"2026-11-23T10:00:00Z\"");
  }
}
