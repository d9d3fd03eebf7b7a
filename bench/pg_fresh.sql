-- pg_fresh.sql - what one batch of 1,000 segments of fresh objects (bench/pg.sh's part C:
-- one allocated, uploaded, never registered object per segment) costs inside PostgreSQL, as
-- tamsd calls tams_segments_add, beside the plain INSERT ... SELECT of the same kind of rows
-- (the floor of the segment rows alone). Unlike bench/pg_rows.sql nothing is rolled back
-- between runs (a claim rolled back leaves its dead row versions and index entries for the
-- next run to step over): every run registers its own 1,000 objects, appended after the
-- previous run's segments, and the whole transaction is rolled back at the end. Runs
-- alternate between the statements; medians in ms.
--
--   psql "$URL" -v flow=FLOW_ID [-v old=FUNCTION] [-v rounds=N] -f bench/pg_fresh.sql
--
-- URL: a tamsd PostgreSQL database (schema 20 or later); FLOW_ID: a flow with a container
-- (bench/gen_segments.py makes one). old: another function of the same signature to time
-- beside it, e.g. an older tams_segments_add installed under another name from
-- `SELECT pg_get_functiondef('tams_segments_add'::regproc)` of an older database. rounds:
-- batches per statement (default 7). The rows lie after year 2000 of the flow's timeline.
\set QUIET on
\pset footer off
\if :{?rounds}
\else
\set rounds 7
\endif
\if :{?old}
\else
\set old ''
\endif
BEGIN;
CREATE FUNCTION pg_temp.fresh_batch(p_flow text, k int) RETURNS text LANGUAGE sql AS $$
  WITH o AS (INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow, created)
    SELECT 'pgfresh-' || k || '-' || i, '310e2bf4-9d9f-47eb-b457-c9226f207492',
      'pgfresh/' || k || '/' || i, 1, p_flow, '2026-12-06T00:00:00Z'
    FROM generate_series(0, 999) i RETURNING id)
  SELECT json_agg(json_build_object('lo', 2000000000::bigint * (31557600 + 1000 * k + i),
    'hi', 2000000000::bigint * (31557601 + 1000 * k + i) - 1, 'start_incl', 1, 'end_incl', 0,
    'object_id', 'pgfresh-' || k || '-' || i, 'object_size', 11) ORDER BY i)::text
  FROM generate_series(0, 999) i WHERE (SELECT count(*) FROM o) = 1000
$$;
CREATE FUNCTION pg_temp.fresh_ms(p_flow text, p_old text, rounds int)
RETURNS TABLE(what text, ms numeric) LANGUAGE plpgsql AS $f$
DECLARE
  fns text[] := CASE WHEN p_old = '' THEN ARRAY['tams_segments_add', '']
                     ELSE ARRAY[p_old, 'tams_segments_add', ''] END;
  v numeric[][] := array_fill(0::numeric, ARRAY[array_length(fns, 1), rounds]);
  k int := 0;
  j text;
  t0 timestamptz;
BEGIN
  FOR r IN 1 .. rounds LOOP
    FOR f IN 1 .. array_length(fns, 1) LOOP
      j := pg_temp.fresh_batch(p_flow, k);
      k := k + 1;
      t0 := clock_timestamp();
      IF fns[f] = '' THEN
        INSERT INTO segments SELECT * FROM json_populate_recordset(json_populate_record(
          NULL::segments, json_build_object('flow_id', p_flow)), j::json);
      ELSE
        EXECUTE format('SELECT count(*) FROM %I($1, $2, $3::json)', fns[f])
          USING p_flow, '2026-01-01T00:00:00Z', j;
      END IF;
      v[f][r] := (extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric;
    END LOOP;
  END LOOP;
  FOR f IN 1 .. array_length(fns, 1) LOOP
    what := CASE WHEN fns[f] = '' THEN 'INSERT of the rows from the same JSON (floor)' ELSE fns[f] END;
    ms := round((SELECT x FROM unnest(ARRAY(SELECT v[f][r] FROM generate_series(1, rounds) r)) x
                 ORDER BY x OFFSET rounds / 2 LIMIT 1), 2);
    RETURN NEXT;
  END LOOP;
END $f$;
SELECT what AS "1,000 segments, fresh objects", ms
  FROM pg_temp.fresh_ms(:'flow', :'old', :rounds);
ROLLBACK;
