package dev.eventscan.scan.readmodel;

import java.time.Instant;

/** One scan as listed: the scan summaries read model's row. */
public record ScanSummary(
    String scanId,
    String target,
    String scanner,
    int maxRetries,
    String status,
    String currentStep,
    int progressPercent,
    int domains,
    int subdomains,
    int failedAttempts,
    Integer score,
    Double confidence,
    String scoreBreakdownJson,
    String failureReason,
    Instant requestedAt,
    Instant startedAt,
    Instant completedAt,
    Long durationMs) {}
