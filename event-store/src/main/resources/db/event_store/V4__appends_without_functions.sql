-- Appends and deletes are one guarded INSERT built by the library (internal/GuardedInsert), the
-- only place that checks expected versions and tombstones; the functions of V1 that repeated the
-- rule are no longer called.
DROP FUNCTION ${schema}.append_to_stream(text, bigint, uuid[], text[], text[], text[]);
DROP FUNCTION ${schema}.delete_stream(text, bigint, uuid);
