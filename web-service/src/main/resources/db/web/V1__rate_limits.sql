-- POST /api/scans is rate limited per client across every node on this database: one row per
-- client (and configured rate), holding the bucket as the "theoretical arrival time" of GCRA, the
-- token bucket in one timestamp. A row whose time has passed is a full bucket and may be deleted.
CREATE TABLE ${schema}.rate_limits (
    client      text NOT NULL,
    per_minute  int NOT NULL,
    tat         timestamptz NOT NULL,
    PRIMARY KEY (client, per_minute)
);
