package dev.eventscan.scan.lifecycle;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.eventscan.eventstore.serialization.EventTypeRegistry;
import dev.eventscan.eventstore.serialization.JacksonEventSerializer;

/** The stored names of scan events; renaming a class never changes what is in the log. */
public final class ScanEventTypes {
  public static final String CATEGORY = "scan";

  private ScanEventTypes() {}

  public static EventTypeRegistry registry() {
    return new EventTypeRegistry()
        .register("ScanRequested", ScanEvent.ScanRequested.class)
        .register("DomainDiscoveryStarted", ScanEvent.DomainDiscoveryStarted.class)
        .register("DomainsDiscovered", ScanEvent.DomainsDiscovered.class)
        .register("SubdomainDiscoveryStarted", ScanEvent.SubdomainDiscoveryStarted.class)
        .register("SubdomainsDiscovered", ScanEvent.SubdomainsDiscovered.class)
        .register("StepAttemptFailed", ScanEvent.StepAttemptFailed.class)
        .register("ScanCompleted", ScanEvent.ScanCompleted.class)
        .register("ScanFailed", ScanEvent.ScanFailed.class)
        .register("ScanCancelled", ScanEvent.ScanCancelled.class);
  }

  /** Times as ISO-8601 text, so the stored JSON reads well in SQL and in the event monitor. */
  public static ObjectMapper objectMapper() {
    return JsonMapper.builder()
        .addModule(new JavaTimeModule())
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
