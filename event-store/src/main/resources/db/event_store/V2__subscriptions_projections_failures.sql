-- Named subscriptions: where each one is, who runs it, how it is doing.
CREATE TABLE ${schema}.subscriptions (
    name              text PRIMARY KEY,
    transaction_id    xid8 NOT NULL DEFAULT '0',
    event_id          bigint NOT NULL DEFAULT 0,
    owner             text,
    status            text NOT NULL DEFAULT 'stopped',
    events_handled    bigint NOT NULL DEFAULT 0,
    last_handled_at   timestamptz,
    last_error        text,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Projections: state and rebuild bookkeeping; their position is their subscription's.
CREATE TABLE ${schema}.projections (
    name                  text PRIMARY KEY,
    state                 text NOT NULL DEFAULT 'stopped',
    rebuild_started_at    timestamptz,
    rebuild_finished_at   timestamptz,
    rebuild_duration_ms   bigint,
    rebuild_target_event_id bigint,
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Events a handler could not process after every retry: parked so the subscription goes on.
CREATE TABLE ${schema}.processing_failures (
    id               bigserial PRIMARY KEY,
    subscription     text NOT NULL,
    transaction_id   xid8 NOT NULL,
    event_id         bigint NOT NULL,
    event_uuid       uuid NOT NULL,
    stream_id        text NOT NULL,
    event_type       text NOT NULL,
    error_message    text NOT NULL,
    error_stack      text NOT NULL,
    attempts         int NOT NULL,
    first_failed_at  timestamptz NOT NULL,
    last_failed_at   timestamptz NOT NULL,
    status           text NOT NULL DEFAULT 'open',
    resolved_at      timestamptz,
    CONSTRAINT processing_failures_once UNIQUE (subscription, event_uuid)
);
CREATE INDEX processing_failures_open ON ${schema}.processing_failures (status, id);

-- Counters kept by the statistics projection, so monitoring never counts the whole log.
CREATE TABLE ${schema}.event_counts_by_type (
    type  text PRIMARY KEY,
    count bigint NOT NULL
);
CREATE TABLE ${schema}.event_counts_by_category (
    category text PRIMARY KEY,
    count    bigint NOT NULL
);
CREATE TABLE ${schema}.event_counts_by_minute (
    minute timestamptz PRIMARY KEY,
    count  bigint NOT NULL
);
CREATE TABLE ${schema}.event_totals (
    id      int PRIMARY KEY CHECK (id = 1),
    events  bigint NOT NULL,
    streams bigint NOT NULL
);
INSERT INTO ${schema}.event_totals VALUES (1, 0, 0);
