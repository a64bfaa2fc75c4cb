package dev.eventscan.scan.readmodel;

import java.util.List;

/** A page of scans, newest first; {@code nextCursor} is null on the last page. */
public record ScanPage(List<ScanSummary> scans, String nextCursor) {}
