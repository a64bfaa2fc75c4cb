-- A subscription declared with K segments keeps one checkpoint row per segment, named
-- '<name>#<index>'; every row records K, so a restart with another K is refused instead of
-- reading the log with a different stream-to-segment assignment.
ALTER TABLE ${schema}.subscriptions ADD COLUMN segments int NOT NULL DEFAULT 1;

-- The nodes running a partitioned subscription: each refreshes its row every second; the live
-- ones (recent heartbeat) share the segments.
CREATE TABLE ${schema}.subscription_members (
    subscription  text NOT NULL,
    node          text NOT NULL,
    segments      int NOT NULL,
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscription, node)
);
