-- Events per 10-second bucket, per stream category and event type: the monitor's rate chart
-- (last 15 minutes), its per-minute and per-hour statistics and "events today" in the browser's
-- time zone. Kept by EventRateProjection; buckets older than two days are pruned.
CREATE TABLE ${schema}.event_rates (
    bucket   timestamptz NOT NULL,
    category text NOT NULL,
    type     text NOT NULL,
    count    bigint NOT NULL,
    PRIMARY KEY (bucket, category, type)
);
