package dev.eventscan.scan.lifecycle;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.eventscan.eventstore.serialization.EventTypeRegistry;
import dev.eventscan.eventstore.serialization.JacksonEventSerializer;
import java.time.Instant;

/** The stored names of scan events; renaming a class never changes what is in the log. */
public final class ScanEventTypes {
  public static final String CATEGORY = "scan";

  public static final String SCAN_REQUESTED = "ScanRequested";
  public static final String DOMAIN_DISCOVERY_STARTED = "DomainDiscoveryStarted";
  public static final String DOMAINS_DISCOVERED = "DomainsDiscovered";
  public static final String SUBDOMAIN_DISCOVERY_STARTED = "SubdomainDiscoveryStarted";
  public static final String SUBDOMAINS_DISCOVERED = "SubdomainsDiscovered";
  public static final String STEP_ATTEMPT_FAILED = "StepAttemptFailed";
  public static final String SCAN_COMPLETED = "ScanCompleted";
  public static final String SCAN_FAILED = "ScanFailed";
  public static final String SCAN_CANCELLED = "ScanCancelled";

  private ScanEventTypes() {}

  public static EventTypeRegistry registry() {
    return new EventTypeRegistry()
        .register(SCAN_REQUESTED, ScanEvent.ScanRequested.class)
        .register(DOMAIN_DISCOVERY_STARTED, ScanEvent.DomainDiscoveryStarted.class)
        .register(DOMAINS_DISCOVERED, ScanEvent.DomainsDiscovered.class)
        .register(SUBDOMAIN_DISCOVERY_STARTED, ScanEvent.SubdomainDiscoveryStarted.class)
        .register(SUBDOMAINS_DISCOVERED, ScanEvent.SubdomainsDiscovered.class)
        .register(STEP_ATTEMPT_FAILED, ScanEvent.StepAttemptFailed.class)
        .register(SCAN_COMPLETED, ScanEvent.ScanCompleted.class)
        .register(SCAN_FAILED, ScanEvent.ScanFailed.class)
        .register(SCAN_CANCELLED, ScanEvent.ScanCancelled.class);
  }

  /** Times as ISO-8601 text, so the stored JSON reads well in SQL and in the event monitor. */
  public static ObjectMapper objectMapper() {
    return JsonMapper.builder()
        .addModule(new JavaTimeModule())
        .addModule(
            new SimpleModule("scan-times")
                .addDeserializer(Instant.class, new UtcInstantDeserializer()))
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .build();
  }

  public static JacksonEventSerializer serializer() {
    return new JacksonEventSerializer(objectMapper(), registry());
  }

  public static String streamId(String scanId) {
    return CATEGORY + "-" + scanId;
  }
}
