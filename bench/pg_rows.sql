-- pg_rows.sql - what one batch of 1,000 segments costs inside PostgreSQL, side by side in one
-- session: tams_segments_add as tamsd calls it, the same with the foreign keys migration 7
-- dropped put back (what migrations 5-7 paid), and a plain INSERT ... SELECT of the same rows
-- (the floor); adding the foreign keys alone is timed too, to subtract, and reading the batch
-- from its JSON array alone, the part of the call the floor does not pay. Each run is a
-- subtransaction that is rolled back, so every run writes the same rows into the same table;
-- the median is printed, in ms per batch.
--
--   psql "$URL" -v flow=FLOW_ID -v obj=OBJECT_ID -f bench/pg_rows.sql
--
-- URL: a tamsd PostgreSQL database (schema 11 or later: the batch as one JSON array of rows);
-- FLOW_ID: a flow with a container; OBJECT_ID: an object registered on it (bench/gen_segments.py --mode fill makes both and
-- prints object_id). The rows are placed after year 2000 of the flow's timeline.
\set QUIET on
\pset footer off
CREATE TEMP TABLE args AS SELECT json_agg(json_build_object(
  'lo', 2000000000::bigint * (31557600 + i), 'hi', 2000000000::bigint * (31557601 + i) - 1,
  'start_incl', 1, 'end_incl', 0, 'object_id', :'obj') ORDER BY i) AS j
  FROM generate_series(0, 999) i;
CREATE TEMP TABLE batch AS SELECT * FROM segments LIMIT 0;
INSERT INTO batch SELECT r.* FROM args, json_populate_recordset(json_populate_record(NULL::segments,
  json_build_object('flow_id', :'flow')), args.j) r;
\ir pg_medians.sql
\set call 'SELECT count(*) FROM args, tams_segments_add(' :'flow' ', ''2026-01-01T00:00:00.000000Z'', args.j)'
\set parse 'SELECT count(*) FROM args, json_populate_recordset(NULL::segments, args.j)'
\set fks 'ALTER TABLE segments ADD FOREIGN KEY (flow_id) REFERENCES flows(id) NOT VALID; ALTER TABLE object_refs ADD FOREIGN KEY (object_id) REFERENCES objects(id) NOT VALID; '
SELECT what AS "1,000 segments", ms FROM pg_temp.medians_ms(
  ARRAY['tams_segments_add', 'the same with the foreign keys', 'adding the foreign keys alone',
        'INSERT ... SELECT of the rows', 'the same with the foreign keys ',
        'reading the batch (json_populate_recordset)'],
  ARRAY[:'call', :'fks' || :'call', :'fks', 'INSERT INTO segments SELECT * FROM batch',
        :'fks' || 'INSERT INTO segments SELECT * FROM batch', :'parse'], 9);
