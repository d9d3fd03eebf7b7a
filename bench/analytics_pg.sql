-- analytics_pg.sql - tams_segments_add of two tamsd schemas side by side in one session, calls
-- alternating round by round (a machine whose speed drifts slows both alike), each rolled back:
-- 1,000 segments appended on one object, 1,000 appended on as many new uncontrolled objects,
-- and one segment appended. Medians of ROUNDS rounds, in ms per call.
--
--   psql "$URL" -v flow=FLOW -v objm=OBJ_A -v objn=OBJ_B -v rounds=21 -f bench/analytics_pg.sql
--
-- URL: one PostgreSQL database holding schemas bm_main (tamsd A, e.g. main) and bm_new (tamsd
-- B), each filled by its own tamsd (--database "$URL?options=-csearch_path%3Dbm_main") with
-- `gen_segments.py --flow FLOW --count 100000`, which prints the object id (OBJ_A, OBJ_B).
\set QUIET on
\pset footer off
CREATE TEMP TABLE am AS SELECT
  array_agg(2000000000::bigint * (31557600 + i)) lo,
  array_agg(2000000000::bigint * (31557601 + i) - 1) hi,
  array_agg(1) li, array_agg(0) hii, array_agg(:'objm'::text) ob,
  array_agg(NULL::bigint) n, array_agg(NULL::text) u
  FROM generate_series(0, 999) i;
CREATE TEMP TABLE an AS SELECT lo, hi, li, hii, array_fill(:'objn'::text, ARRAY[1000]) ob, n, u FROM am;
CREATE TEMP TABLE af AS SELECT lo, hi, li, hii,
  ARRAY(SELECT 'bench-fresh-' || i FROM generate_series(0, 999) i) ob, n,
  array_fill('[]'::text, ARRAY[1000]) u FROM am;
CREATE TEMP TABLE a1m AS SELECT lo[1:1] lo, hi[1:1] hi, li[1:1] li, hii[1:1] hii, ob[1:1] ob, n[1:1] n, u[1:1] u FROM am;
CREATE TEMP TABLE a1n AS SELECT lo[1:1] lo, hi[1:1] hi, li[1:1] li, hii[1:1] hii, ob[1:1] ob, n[1:1] n, u[1:1] u FROM an;
\ir pg_medians.sql
SELECT what AS "one call of tams_segments_add", ms FROM pg_temp.medians_ms(
  ARRAY['1,000 appended, one object: main', '... this branch', '1,000 appended, 1,000 new uncontrolled objects: main', '... this branch', '1 segment appended: main', '... this branch'],
  ARRAY['SET LOCAL search_path TO bm_main; SELECT count(*) FROM am, bm_main.tams_segments_add(''' || :'flow' || ''', ''2026-01-01T00:00:00.000000Z'', lo, hi, li, hii, ob, n, n, n, n, n, u)', 'SET LOCAL search_path TO bm_new; SELECT count(*) FROM an, bm_new.tams_segments_add(''' || :'flow' || ''', ''2026-01-01T00:00:00.000000Z'', lo, hi, li, hii, ob, n, n, n, n, n, u)', 'SET LOCAL search_path TO bm_main; SELECT count(*) FROM af, bm_main.tams_segments_add(''' || :'flow' || ''', ''2026-01-01T00:00:00.000000Z'', lo, hi, li, hii, ob, n, n, n, n, n, u)', 'SET LOCAL search_path TO bm_new; SELECT count(*) FROM af, bm_new.tams_segments_add(''' || :'flow' || ''', ''2026-01-01T00:00:00.000000Z'', lo, hi, li, hii, ob, n, n, n, n, n, u)', 'SET LOCAL search_path TO bm_main; SELECT count(*) FROM a1m, bm_main.tams_segments_add(''' || :'flow' || ''', ''2026-01-01T00:00:00.000000Z'', lo, hi, li, hii, ob, n, n, n, n, n, u)', 'SET LOCAL search_path TO bm_new; SELECT count(*) FROM a1n, bm_new.tams_segments_add(''' || :'flow' || ''', ''2026-01-01T00:00:00.000000Z'', lo, hi, li, hii, ob, n, n, n, n, n, u)'],
  :rounds);
