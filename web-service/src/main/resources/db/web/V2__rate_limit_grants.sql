-- Concurrent requests are counted together: the last update's number of requests let through,
-- which the statement returns (its RETURNING sees only the new row, not the tat it started from).
ALTER TABLE ${schema}.rate_limits ADD COLUMN granted int NOT NULL DEFAULT 1;
