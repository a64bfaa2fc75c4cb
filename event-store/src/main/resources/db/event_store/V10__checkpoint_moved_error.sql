-- A subscription's batch transaction moves its checkpoint by compare-and-set and commits in one
-- round trip ("...; COMMIT"), so its transaction id holds back global readers one round trip less.
-- A COMMIT sent along must not go through when the checkpoint moved: the statement fails instead,
-- with this error, and the transaction is rolled back.
CREATE FUNCTION ${schema}.checkpoint_moved(subscription text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the checkpoint of subscription % moved', subscription USING ERRCODE = 'ES001';
END
$$;
