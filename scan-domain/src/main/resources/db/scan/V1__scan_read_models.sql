-- Read models of the scan domain, kept by projections in the same transaction as their checkpoints.

CREATE TABLE ${schema}.scan_summaries (
    scan_id          text PRIMARY KEY,
    target           text NOT NULL,
    scanner          text NOT NULL,
    max_retries      int NOT NULL,
    status           text NOT NULL,
    current_step     text,
    progress_percent int NOT NULL DEFAULT 0,
    domains          int NOT NULL DEFAULT 0,
    subdomains       int NOT NULL DEFAULT 0,
    failed_attempts  int NOT NULL DEFAULT 0,
    score            int,
    confidence       double precision,
    score_breakdown  jsonb,
    failure_reason   text,
    requested_at     timestamptz NOT NULL,
    started_at       timestamptz,
    completed_at     timestamptz,
    duration_ms      bigint,
    stream_version   bigint NOT NULL
);

-- Listing newest first, by status or by target (target history is the second index).
CREATE INDEX scan_summaries_by_time ON ${schema}.scan_summaries (requested_at DESC, scan_id);
CREATE INDEX scan_summaries_by_status ON ${schema}.scan_summaries (status, requested_at DESC, scan_id);
CREATE INDEX scan_summaries_by_target ON ${schema}.scan_summaries (target, requested_at DESC, scan_id);

CREATE TABLE ${schema}.scan_findings (
    scan_id       text NOT NULL,
    domain        text NOT NULL,
    subdomain     text NOT NULL,
    record_type   text NOT NULL,
    value         text NOT NULL,
    discovered_at timestamptz NOT NULL,
    PRIMARY KEY (scan_id, subdomain, record_type, value)
);

CREATE TABLE ${schema}.scan_domains (
    scan_id  text NOT NULL,
    domain   text NOT NULL,
    source   text NOT NULL,
    wildcard boolean NOT NULL DEFAULT false,
    status   text NOT NULL DEFAULT 'PENDING',
    attempts int NOT NULL DEFAULT 0,
    PRIMARY KEY (scan_id, domain)
);

-- The process manager's durable memory: scans not yet finished, so a restart drives them on.
CREATE TABLE ${schema}.scan_in_flight (
    scan_id      text PRIMARY KEY,
    requested_at timestamptz NOT NULL
);
