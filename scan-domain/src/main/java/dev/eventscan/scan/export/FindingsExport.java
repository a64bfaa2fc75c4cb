package dev.eventscan.scan.export;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A scan's findings as JSON or CSV, for download. */
public final class FindingsExport {
  private static final ObjectMapper MAPPER = ScanEventTypes.objectMapper();

  private FindingsExport() {}

  /** One exported row. */
  public record Row(
      String domain, String subdomain, String recordType, String value, Instant discoveredAt) {}

  public static String toJson(String scanId, String target, List<Row> rows) {
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("scanId", scanId);
    document.put("target", target);
    document.put("findings", rows);
    try {
      return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(document);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("findings could not be written as JSON", e);
    }
  }

  /** RFC 4180 CSV with a header row. */
  public static String toCsv(List<Row> rows) {
    StringBuilder csv = new StringBuilder("domain,subdomain,record_type,value,discovered_at\r\n");
    for (Row row : rows) {
      csv.append(cell(row.domain()))
          .append(',')
          .append(cell(row.subdomain()))
          .append(',')
          .append(cell(row.recordType()))
          .append(',')
          .append(cell(row.value()))
          .append(',')
          .append(cell(row.discoveredAt().toString()))
          .append("\r\n");
    }
    return csv.toString();
  }

  /**
   * Quotes when needed, and defuses values a spreadsheet would run as a formula: DNS data comes
   * from the outside world (a TXT or CNAME value can start with {@code =}).
   */
  static String cell(String value) {
    String safe = value;
    if (!safe.isEmpty() && "=+-@\t\r".indexOf(safe.charAt(0)) >= 0) {
      safe = "'" + safe;
    }
    if (safe.contains(",") || safe.contains("\"") || safe.contains("\n") || safe.contains("\r")) {
      return "\"" + safe.replace("\"", "\"\"") + "\"";
    }
    return safe;
  }
}
