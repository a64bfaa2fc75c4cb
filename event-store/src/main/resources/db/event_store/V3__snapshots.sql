-- One snapshot per stream: the state after stream_version events, in the aggregate's snapshot
-- schema. Only an optimization: deleting any row just means a longer replay.
CREATE TABLE ${schema}.snapshots (
    stream_id       text PRIMARY KEY,
    stream_version  bigint NOT NULL,
    schema_version  int NOT NULL,
    state           jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
