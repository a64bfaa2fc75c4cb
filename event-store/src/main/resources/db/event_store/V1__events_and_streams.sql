-- Streams: one row per stream, locked by every append to it, so appends to one stream are
-- serialized while appends to different streams never wait on each other.
CREATE TABLE ${schema}.streams (
    stream_id  text PRIMARY KEY,
    category   text GENERATED ALWAYS AS (split_part(stream_id, '-', 1)) STORED,
    version    bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

-- The log. Global readers order by (transaction_id, id) and only read below the oldest running
-- transaction, so an id handed out early but committed late is never skipped.
CREATE TABLE ${schema}.events (
    id             bigserial PRIMARY KEY,
    transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id       uuid NOT NULL,
    stream_id      text NOT NULL,
    stream_version bigint NOT NULL,
    category       text GENERATED ALWAYS AS (split_part(stream_id, '-', 1)) STORED,
    type           text NOT NULL,
    data           jsonb NOT NULL,
    metadata       jsonb NOT NULL DEFAULT '{}',
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_event_id_unique UNIQUE (event_id),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_global_order ON ${schema}.events (transaction_id, id);

-- Appends one batch to one stream in a single round trip.
-- p_expected: >= 0 exactly that version, -1 any, -2 no stream, -3 stream exists.
-- Errors use our own SQLSTATEs so the caller can map them to typed exceptions:
--   ES409 wrong expected version (DETAIL = actual version), ES410 stream deleted,
--   ES411 event ids already appended under a different expectation (DETAIL = first event id).
CREATE FUNCTION ${schema}.append_to_stream(
    p_stream_id text,
    p_expected  bigint,
    p_event_ids uuid[],
    p_types     text[],
    p_data      text[],
    p_metadata  text[])
RETURNS TABLE (stream_version bigint, transaction_id text, last_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_version       bigint;
    v_deleted       boolean;
    v_count         int := cardinality(p_event_ids);
    v_first_stream  text;
    v_first_version bigint;
    v_matching      int;
    v_last_id       bigint;
BEGIN
    SELECT s.version, s.deleted_at IS NOT NULL INTO v_version, v_deleted
      FROM ${schema}.streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
    IF NOT FOUND THEN
        IF p_expected = -3 OR p_expected > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'ES409', MESSAGE = 'wrong expected version', DETAIL = '0';
        END IF;
        -- A concurrent creator makes this a no-op after it commits; the row lock below then
        -- serializes us behind it.
        INSERT INTO ${schema}.streams (stream_id, version) VALUES (p_stream_id, 0)
            ON CONFLICT DO NOTHING;
        SELECT s.version, s.deleted_at IS NOT NULL INTO v_version, v_deleted
          FROM ${schema}.streams s WHERE s.stream_id = p_stream_id FOR UPDATE;
    END IF;

    -- Idempotent retry: checked under the stream lock, so two racing retries agree.
    SELECT e.stream_id, e.stream_version INTO v_first_stream, v_first_version
      FROM ${schema}.events e WHERE e.event_id = p_event_ids[1];
    IF FOUND THEN
        SELECT count(*) INTO v_matching
          FROM ${schema}.events e
          JOIN unnest(p_event_ids) WITH ORDINALITY AS u(event_id, ord) ON e.event_id = u.event_id
         WHERE e.stream_id = p_stream_id AND e.stream_version = v_first_version + u.ord - 1;
        IF v_first_stream <> p_stream_id OR v_matching <> v_count OR NOT (
               p_expected = -1
            OR (p_expected = -2 AND v_first_version = 1)
            OR (p_expected = -3 AND v_first_version > 1)
            OR (p_expected >= 0 AND v_first_version = p_expected + 1)) THEN
            RAISE EXCEPTION USING ERRCODE = 'ES411', MESSAGE = 'event ids already appended',
                DETAIL = p_event_ids[1]::text;
        END IF;
        RETURN QUERY
            SELECT e.stream_version, e.transaction_id::text, e.id
              FROM ${schema}.events e
             WHERE e.stream_id = p_stream_id AND e.stream_version = v_first_version + v_count - 1;
        RETURN;
    END IF;

    IF v_deleted THEN
        RAISE EXCEPTION USING ERRCODE = 'ES410', MESSAGE = 'stream deleted';
    END IF;
    IF NOT (p_expected = -1
         OR (p_expected = -2 AND v_version = 0)
         OR (p_expected = -3 AND v_version > 0)
         OR p_expected = v_version) THEN
        RAISE EXCEPTION USING ERRCODE = 'ES409', MESSAGE = 'wrong expected version',
            DETAIL = v_version::text;
    END IF;

    WITH inserted AS (
        INSERT INTO ${schema}.events (event_id, stream_id, stream_version, type, data, metadata)
        SELECT u.event_id, p_stream_id, v_version + u.ord, u.type, u.data::jsonb, u.metadata::jsonb
          FROM unnest(p_event_ids, p_types, p_data, p_metadata)
               WITH ORDINALITY AS u(event_id, type, data, metadata, ord)
         ORDER BY u.ord
        RETURNING id)
    SELECT max(id) INTO v_last_id FROM inserted;

    UPDATE ${schema}.streams SET version = v_version + v_count, updated_at = now()
     WHERE streams.stream_id = p_stream_id;

    RETURN QUERY SELECT v_version + v_count, pg_current_xact_id()::text, v_last_id;
END;
$$;
