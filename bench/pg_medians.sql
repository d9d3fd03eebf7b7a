-- pg_medians.sql - the timing harness of bench/pg_rows.sql and bench/analytics_pg.sql, read by
-- them with \ir: pg_temp.medians_ms(names, statements, rounds) runs every statement once per
-- round, in turn (a machine whose speed drifts slows all of them alike), each in a
-- subtransaction rolled back, so every run writes the same rows into the same tables; it
-- returns each statement's median, in ms.
CREATE FUNCTION pg_temp.medians_ms(names text[], qs text[], rounds int)
RETURNS TABLE(what text, ms numeric) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; v numeric[][] := array_fill(0::numeric, ARRAY[rounds, array_length(qs, 1)]);
BEGIN
  FOR r IN 1 .. rounds LOOP
    FOR k IN 1 .. array_length(qs, 1) LOOP
      t0 := clock_timestamp();
      BEGIN EXECUTE qs[k]; RAISE EXCEPTION 'undo'; EXCEPTION WHEN raise_exception THEN NULL; END;
      v[r][k] := (extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric;
    END LOOP;
  END LOOP;
  FOR k IN 1 .. array_length(qs, 1) LOOP
    what := names[k];
    ms := round((SELECT x FROM unnest(ARRAY(SELECT v[r][k] FROM generate_series(1, rounds) r)) x
                 ORDER BY x OFFSET rounds / 2 LIMIT 1), 2);
    RETURN NEXT;
  END LOOP;
END $$;
