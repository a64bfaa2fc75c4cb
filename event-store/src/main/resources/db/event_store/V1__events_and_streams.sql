-- Streams: one row per stream, written when the stream is created or deleted, never on an
-- ordinary append, so appends take no lock and write no row besides their events.
CREATE TABLE ${schema}.streams (
    stream_id  text PRIMARY KEY,
    category   text GENERATED ALWAYS AS (split_part(stream_id, '-', 1)) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

-- The log. A stream's version is its last event's stream_version; UNIQUE (stream_id,
-- stream_version) is what makes two concurrent appends at the same version conflict.
-- Global readers order by (transaction_id, id) and only read below the oldest running
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

-- Appends one batch to one stream in a single round trip, without locks: a concurrent append at
-- the same version fails on events_stream_version_unique when the first one commits.
-- p_expected: >= 0 exactly that version, -1 any, -2 no stream, -3 stream exists.
-- Errors use our own SQLSTATEs so the caller maps them to typed exceptions:
--   ES409 wrong expected version (DETAIL = actual version), ES410 stream deleted.
-- A deleted stream ends with a '$stream-deleted' tombstone, which claims the next version, so a
-- delete and an append racing for the same version cannot both win.
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
    v_version   bigint;
    v_last_type text;
    v_last_id   bigint;
BEGIN
    SELECT e.stream_version, e.type INTO v_version, v_last_type
      FROM ${schema}.events e
     WHERE e.stream_id = p_stream_id
     ORDER BY e.stream_version DESC
     LIMIT 1;
    IF NOT FOUND THEN
        v_version := 0;
    ELSIF v_last_type = '$stream-deleted' THEN
        RAISE EXCEPTION USING ERRCODE = 'ES410', MESSAGE = 'stream deleted';
    END IF;
    IF NOT (p_expected = -1
         OR (p_expected = -2 AND v_version = 0)
         OR (p_expected = -3 AND v_version > 0)
         OR p_expected = v_version) THEN
        RAISE EXCEPTION USING ERRCODE = 'ES409', MESSAGE = 'wrong expected version',
            DETAIL = v_version::text;
    END IF;
    IF v_version = 0 THEN
        INSERT INTO ${schema}.streams (stream_id) VALUES (p_stream_id) ON CONFLICT DO NOTHING;
    END IF;

    WITH inserted AS (
        INSERT INTO ${schema}.events (event_id, stream_id, stream_version, type, data, metadata)
        SELECT u.event_id, p_stream_id, v_version + u.ord, u.type, u.data::jsonb, u.metadata::jsonb
          FROM unnest(p_event_ids, p_types, p_data, p_metadata)
               WITH ORDINALITY AS u(event_id, type, data, metadata, ord)
         ORDER BY u.ord
        RETURNING id)
    SELECT max(id) INTO v_last_id FROM inserted;

    RETURN QUERY SELECT v_version + cardinality(p_event_ids), pg_current_xact_id()::text, v_last_id;
END;
$$;

-- Soft delete: a tombstone event at the next version, and the stream row marked.
-- Same error codes as append_to_stream, plus ES404 when the stream was never written.
CREATE FUNCTION ${schema}.delete_stream(p_stream_id text, p_expected bigint, p_event_id uuid)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_version   bigint;
    v_last_type text;
BEGIN
    SELECT e.stream_version, e.type INTO v_version, v_last_type
      FROM ${schema}.events e
     WHERE e.stream_id = p_stream_id
     ORDER BY e.stream_version DESC
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ES404', MESSAGE = 'stream not found';
    ELSIF v_last_type = '$stream-deleted' THEN
        RAISE EXCEPTION USING ERRCODE = 'ES410', MESSAGE = 'stream deleted';
    END IF;
    IF NOT (p_expected IN (-1, -3) OR p_expected = v_version) THEN
        RAISE EXCEPTION USING ERRCODE = 'ES409', MESSAGE = 'wrong expected version',
            DETAIL = v_version::text;
    END IF;
    INSERT INTO ${schema}.events (event_id, stream_id, stream_version, type, data, metadata)
    VALUES (p_event_id, p_stream_id, v_version + 1, '$stream-deleted', '{}', '{}');
    UPDATE ${schema}.streams SET deleted_at = now() WHERE stream_id = p_stream_id;
    RETURN v_version;
END;
$$;
