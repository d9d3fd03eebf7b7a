/* SPDX-License-Identifier: Apache-2.0 */
/* schema_pg_bulk.c - PostgreSQL migration 20: bulk registration reads the batch's objects once.
 *
 * tams_segments_add of migration 15 touched the batch's objects seven times in its usual case
 * (a batch in which every item is added): locked them, joined them for the check, claimed
 * them, looked for the ones missing, and read them three times more for the aggregates
 * (tams_stats_batch_add). Each pass is a B-tree descent per object; with the planner's row
 * estimates for an unnested array some passes became hash joins over the whole table, whose
 * cost grows with the store (bench/BENCHMARKS.md, 2026-12-06). Here the usual case locks and
 * reads them once, by key (`id = ANY(...)`), keeps what it read in arrays, updates only the
 * rows that change (claim, unstamp, size), inserts the references of objects no flow has
 * referenced yet without ON CONFLICT, and writes the aggregates from the arrays
 * (tams_stats_batch_objs). Every other batch runs migration 15's item-by-item loop unchanged,
 * with the same outcome per item.
 */
#include "core/common.h"
#include "store/schema_int.h"

/* The batch's aggregates from what registration already read (its distinct objects: backend
 * '' for none, segments, size after the call, whether the reference is new to the flow), with
 * the gap rules of tams_stats_batch_add for a batch all of whose items were added. */
#define STATS_BATCH_OBJS                                                                               \
    "CREATE FUNCTION tams_stats_batch_objs(p_flow text, p_lo bigint[], p_hi bigint[],"                 \
    " p_tail bigint, p_sid text[], p_c bigint[], p_size bigint[], p_fresh boolean[])"                  \
    " RETURNS void LANGUAGE plpgsql AS $f$\n"                                                          \
    "DECLARE\n"                                                                                        \
    "  first bigint;\n"                                                                                \
    "  last bigint;\n"                                                                                 \
    "  cnt bigint;\n"                                                                                  \
    "  cov bigint;\n"                                                                                  \
    "  fo bigint;\n"                                                                                   \
    "  fu bigint;\n"                                                                                   \
    "  fb bigint;\n"                                                                                   \
    "BEGIN\n"                                                                                          \
    "  SELECT min(u.lo), max(u.hi), count(*), sum(u.hi - u.lo + 1) INTO first, last, cnt, cov\n"       \
    "    FROM unnest(p_lo, p_hi) AS u(lo, hi);\n"                                                      \
    "  IF cnt = 0 THEN RETURN; END IF;\n"                                                              \
    "  SELECT count(*) FILTER (WHERE u.fr), count(*) FILTER (WHERE u.fr AND u.size IS NULL),\n"        \
    "      coalesce(sum(u.size) FILTER (WHERE u.fr), 0) INTO fo, fu, fb\n"                             \
    "    FROM unnest(p_size, p_fresh) AS u(size, fr);\n"                                               \
    "  INSERT INTO flow_stats AS a(flow_id, segments, covered, first_lo, last_hi, objects,\n"          \
    "      unsized, bytes) VALUES (p_flow, cnt, cov, first, last, fo, fu, fb)\n"                       \
    "    ON CONFLICT(flow_id) DO UPDATE SET segments = a.segments + excluded.segments,\n"              \
    "      covered = a.covered + excluded.covered,\n"                                                  \
    "      first_lo = LEAST(a.first_lo, excluded.first_lo),\n"                                         \
    "      last_hi = GREATEST(a.last_hi, excluded.last_hi), objects = a.objects + excluded.objects,\n" \
    "      unsized = a.unsized + excluded.unsized, bytes = a.bytes + excluded.bytes;\n"                \
    "  INSERT INTO flow_storage_stats AS a(flow_id, storage_id, segments, bytes)\n"                    \
    "    SELECT p_flow, u.sid, sum(u.c), coalesce(sum(u.size) FILTER (WHERE u.fr), 0)\n"               \
    "      FROM unnest(p_sid, p_c, p_size, p_fresh) AS u(sid, c, size, fr) GROUP BY u.sid\n"           \
    "    ON CONFLICT(flow_id, storage_id) DO UPDATE SET segments = a.segments + excluded.segments,\n"  \
    "      bytes = a.bytes + excluded.bytes;\n"                                                        \
    "  INSERT INTO flow_ingest AS a(flow_id, minute, segments, bytes)\n"                               \
    "    VALUES (p_flow, floor(extract(epoch FROM now()) / 60)::bigint, cnt, fb)\n"                    \
    "    ON CONFLICT(flow_id, minute) DO UPDATE SET segments = a.segments + excluded.segments,\n"      \
    "      bytes = a.bytes + excluded.bytes;\n"                                                        \
    "  IF p_tail IS NULL OR first > p_tail THEN\n"                                                     \
    "    IF p_tail + 1 < first THEN\n"                                                                 \
    "      INSERT INTO flow_gaps(flow_id, lo, hi) VALUES (p_flow, p_tail + 1, first - 1);\n"           \
    "    END IF;\n"                                                                                    \
    "    IF cov = last - first + 1 THEN RETURN; END IF; /* no hole inside the batch */\n"              \
    "    INSERT INTO flow_gaps(flow_id, lo, hi)\n"                                                     \
    "      SELECT p_flow, x.prev_hi + 1, x.lo - 1 FROM (SELECT u.lo,\n"                                \
    "          lag(u.hi) OVER (ORDER BY u.lo) AS prev_hi FROM unnest(p_lo, p_hi) AS u(lo, hi)) x\n"    \
    "      WHERE x.prev_hi + 1 < x.lo;\n"                                                              \
    "    RETURN;\n"                                                                                    \
    "  END IF;\n"                                                                                      \
    "  DELETE FROM flow_gaps g USING (SELECT u.lo, (SELECT s.hi FROM segments s\n"                     \
    "      WHERE s.flow_id = p_flow AND s.lo < u.lo ORDER BY s.lo DESC LIMIT 1) AS pre_hi\n"           \
    "      FROM unnest(p_lo) AS u(lo)) x\n"                                                            \
    "    WHERE g.flow_id = p_flow AND g.lo > x.pre_hi AND g.lo <= x.lo;\n"                             \
    "  INSERT INTO flow_gaps(flow_id, lo, hi)\n"                                                       \
    "    SELECT p_flow, pre_hi + 1, lo - 1 FROM (SELECT u.lo, (SELECT s.hi FROM segments s\n"          \
    "        WHERE s.flow_id = p_flow AND s.lo < u.lo ORDER BY s.lo DESC LIMIT 1) AS pre_hi\n"         \
    "        FROM unnest(p_lo) AS u(lo)) x WHERE pre_hi + 1 < lo\n"                                    \
    "    UNION\n"                                                                                      \
    "    SELECT p_flow, hi + 1, n_lo - 1 FROM (SELECT u.hi, (SELECT s.lo FROM segments s\n"            \
    "        WHERE s.flow_id = p_flow AND s.lo > u.lo ORDER BY s.lo LIMIT 1) AS n_lo\n"                \
    "        FROM unnest(p_lo, p_hi) AS u(lo, hi)) y WHERE hi + 1 < n_lo\n"                            \
    "    ON CONFLICT(flow_id, lo) DO NOTHING;\n"                                                       \
    "END\n"                                                                                            \
    "$f$;"

/* The usual batch, given it: the objects (k) locked and read by key; per distinct object of
 * the batch (g) its segments, the first item's get_urls, the size the caller learnt (s). */
#define CLEAN_CHECK                                                                                  \
    "    WITH k AS (SELECT o.id, o.first_referenced_by_flow IS NULL AS unreg,\n"                     \
    "        o.allocated_for_flow AS alloc, o.unreferenced_at IS NOT NULL AS unref,\n"               \
    "        coalesce(o.storage_id, '') AS sid, o.size FROM objects o\n"                             \
    "        WHERE o.id = ANY(v_ob) FOR KEY SHARE),\n"                                               \
    "      b AS (SELECT u.lo, u.hi, u.object_id AS ob, u.get_urls AS urls, u.ordinality AS i\n"      \
    "        FROM unnest(it) WITH ORDINALITY AS u),\n"                                               \
    "      g AS (SELECT b.ob, count(*) AS c, (array_agg(b.urls ORDER BY b.i))[1] AS urls\n"          \
    "        FROM b GROUP BY b.ob),\n"                                                               \
    "      s AS (SELECT z.id, max(z.size) AS size FROM unnest(sz_id, sz) AS z(id, size)\n"           \
    "        GROUP BY z.id),\n"                                                                      \
    "      j AS (SELECT g.ob, g.c, g.urls, k.id IS NOT NULL AS known, k.unreg, k.alloc,\n"           \
    "          k.unref, coalesce(k.sid, '') AS sid, k.size AS was,\n"                                \
    "          CASE WHEN k.id IS NOT NULL THEN coalesce(s.size, k.size) END AS size\n"               \
    "        FROM g LEFT JOIN k ON k.id = g.ob LEFT JOIN s ON s.id = g.ob)\n"                        \
    "    SELECT NOT EXISTS (SELECT 1 FROM (SELECT b.lo, lag(b.hi) OVER (ORDER BY b.lo) AS prev_hi\n" \
    "        FROM b) x WHERE x.lo <= x.prev_hi)\n"                                                   \
    "      AND (tail IS NULL OR (SELECT min(b.lo) FROM b) > tail OR NOT EXISTS (\n"                  \
    "        SELECT 1 FROM b, LATERAL (SELECT s.hi FROM segments s WHERE s.flow_id = p_flow\n"       \
    "          AND s.lo <= b.hi ORDER BY s.lo DESC LIMIT 1) p WHERE p.hi >= b.lo))\n"                \
    "      AND NOT EXISTS (SELECT 1 FROM j WHERE (NOT j.known AND j.urls IS NULL)\n"                 \
    "        OR (j.known AND j.unreg AND j.alloc <> p_flow)),\n"                                     \
    "      (SELECT array_agg(j.ob) FROM j), (SELECT array_agg(j.c) FROM j),\n"                       \
    "      (SELECT array_agg(j.sid) FROM j), (SELECT array_agg(j.size) FROM j),\n"                   \
    "      (SELECT array_agg(NOT j.known OR j.unreg) FROM j),\n"                                     \
    "      (SELECT array_agg(j.ob) FROM j WHERE j.known AND (j.unreg OR j.unref\n"                   \
    "        OR j.was IS DISTINCT FROM j.size)),\n"                                                  \
    "      (SELECT array_agg(j.size) FROM j WHERE j.known AND (j.unreg OR j.unref\n"                 \
    "        OR j.was IS DISTINCT FROM j.size)),\n"                                                  \
    "      (SELECT array_agg(j.ob) FROM j WHERE NOT j.known)\n"                                      \
    "    INTO clean, g_ob, g_c, g_sid, g_size, g_new, u_ob, u_size, x_ob;\n"

/* The usual batch's writes: claim what changes, add the unknown objects, the rows, the
 * references (plain INSERT for objects nothing referenced before: unknown until now, or never
 * registered), the aggregates. */
#define CLEAN_WRITE                                                                                     \
    "    IF clean THEN\n"                                                                               \
    "      IF u_ob IS NOT NULL THEN\n"                                                                  \
    "        UPDATE objects o SET first_referenced_by_flow =\n"                                         \
    "            coalesce(o.first_referenced_by_flow, p_flow), unreferenced_at = NULL,\n"               \
    "            size = u.size\n"                                                                       \
    "          FROM unnest(u_ob, u_size) AS u(ob, size) WHERE o.id = ANY(u_ob) AND o.id = u.ob;\n"      \
    "      END IF;\n"                                                                                   \
    "      IF x_ob IS NOT NULL THEN\n"                                                                  \
    "        INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow,\n"                \
    "          first_referenced_by_flow, created)\n"                                                    \
    "          SELECT u.ob, NULL::text, '', 0, NULL::text, p_flow, p_now FROM unnest(x_ob) AS u(ob);\n" \
    "      END IF;\n"                                                                                   \
    "      INSERT INTO segments SELECT * FROM unnest(it);\n"                                            \
    "      INSERT INTO object_refs(object_id, flow_id, count)\n"                                        \
    "        SELECT u.ob, p_flow, u.c FROM unnest(g_ob, g_c, g_new) AS u(ob, c, nw) WHERE u.nw;\n"      \
    "      IF NOT (true = ALL(g_new)) THEN\n"                                                           \
    "        WITH u AS (SELECT u.ob, u.c, u.i FROM unnest(g_ob, g_c, g_new) WITH ORDINALITY\n"          \
    "            AS u(ob, c, nw, i) WHERE NOT u.nw),\n"                                                 \
    "          r AS (INSERT INTO object_refs(object_id, flow_id, count)\n"                              \
    "            SELECT u.ob, p_flow, u.c FROM u ON CONFLICT(object_id, flow_id)\n"                     \
    "            DO UPDATE SET count = object_refs.count + excluded.count\n"                            \
    "            RETURNING object_refs.object_id, object_refs.count)\n"                                 \
    "        SELECT array_agg(u.i) INTO fresh_i FROM r JOIN u ON u.ob = r.object_id\n"                  \
    "          WHERE r.count = u.c;\n"                                                                  \
    "        FOR m IN 1 .. coalesce(array_length(fresh_i, 1), 0) LOOP\n"                                \
    "          g_new[fresh_i[m]] := true;\n"                                                            \
    "        END LOOP;\n"                                                                               \
    "      END IF;\n"                                                                                   \
    "      PERFORM tams_stats_batch_objs(p_flow, v_lo, v_hi, tail, g_sid, g_c, g_size, g_new);\n"       \
    "      RETURN QUERY SELECT 0, NULL::bigint, NULL::bigint, NULL::int, NULL::int\n"                   \
    "        FROM generate_series(1, n);\n"                                                             \
    "      RETURN;\n"                                                                                   \
    "    END IF;\n"

/* Migration 15's item-by-item loop, unchanged: a batch with an overlap, a refused object, or a
 * single item. */
#define EACH_ITEM                                                                                           \
    "  UPDATE objects o SET size = z.size FROM unnest(sz_id, sz) AS z(id, size)\n"                          \
    "    WHERE o.id = z.id AND o.size IS DISTINCT FROM z.size;\n"                                           \
    "  sel := array_fill(false, ARRAY[n]);\n"                                                               \
    "  FOR i IN 1 .. n LOOP\n"                                                                              \
    "    r_code := 0; r_lo := NULL; r_hi := NULL; r_lo_incl := NULL; r_hi_incl := NULL;\n"                  \
    "    SELECT s.lo, s.hi, s.start_incl, s.end_incl INTO prev FROM segments s\n"                           \
    "      WHERE s.flow_id = p_flow AND s.lo <= v_hi[i] ORDER BY s.lo DESC LIMIT 1;\n"                      \
    "    IF FOUND AND prev.hi >= v_lo[i] THEN\n"                                                            \
    "      r_code := 1; r_lo := prev.lo; r_hi := prev.hi;\n"                                                \
    "      r_lo_incl := prev.start_incl; r_hi_incl := prev.end_incl;\n"                                     \
    "      RETURN NEXT; CONTINUE;\n"                                                                        \
    "    END IF;\n"                                                                                         \
    "    SELECT o.allocated_for_flow, o.first_referenced_by_flow IS NOT NULL AS registered\n"               \
    "      INTO obj FROM objects o WHERE o.id = v_ob[i] FOR KEY SHARE;\n"                                   \
    "    IF NOT FOUND THEN\n"                                                                               \
    "      IF (it[i]).get_urls IS NULL THEN r_code := 3; RETURN NEXT; CONTINUE; END IF;\n"                  \
    "      INSERT INTO objects(id, storage_id, key, controlled, allocated_for_flow,\n"                      \
    "        first_referenced_by_flow, created) VALUES (v_ob[i], NULL, '', 0, NULL, p_flow, p_now);\n"      \
    "    ELSIF NOT obj.registered THEN\n"                                                                   \
    "      IF obj.allocated_for_flow IS NOT NULL AND obj.allocated_for_flow <> p_flow THEN\n"               \
    "        r_code := 2; RETURN NEXT; CONTINUE;\n"                                                         \
    "      END IF;\n"                                                                                       \
    "      UPDATE objects SET first_referenced_by_flow = p_flow\n"                                          \
    "        WHERE id = v_ob[i] AND first_referenced_by_flow IS NULL;\n"                                    \
    "    END IF;\n"                                                                                         \
    "    INSERT INTO segments SELECT (it[i]).*;\n"                                                          \
    "    sel[i] := true;\n"                                                                                 \
    "    IF run_n > 0 AND run_obj <> v_ob[i] THEN\n"                                                        \
    "      INSERT INTO object_refs(object_id, flow_id, count) VALUES (run_obj, p_flow, run_n)\n"            \
    "        ON CONFLICT(object_id, flow_id) DO UPDATE SET count = object_refs.count + excluded.count\n"    \
    "        RETURNING count INTO c;\n"                                                                     \
    "      IF c = run_n THEN fresh := array_append(fresh, run_obj); END IF;\n"                              \
    "      UPDATE objects SET unreferenced_at = NULL WHERE id = run_obj AND unreferenced_at IS NOT NULL;\n" \
    "      run_n := 0;\n"                                                                                   \
    "    END IF;\n"                                                                                         \
    "    run_obj := v_ob[i]; run_n := run_n + 1;\n"                                                         \
    "    RETURN NEXT;\n"                                                                                    \
    "  END LOOP;\n"                                                                                         \
    "  IF run_n > 0 THEN\n"                                                                                 \
    "    INSERT INTO object_refs(object_id, flow_id, count) VALUES (run_obj, p_flow, run_n)\n"              \
    "      ON CONFLICT(object_id, flow_id) DO UPDATE SET count = object_refs.count + excluded.count\n"      \
    "      RETURNING count INTO c;\n"                                                                       \
    "    IF c = run_n THEN fresh := array_append(fresh, run_obj); END IF;\n"                                \
    "    UPDATE objects SET unreferenced_at = NULL WHERE id = run_obj AND unreferenced_at IS NOT NULL;\n"   \
    "  END IF;\n"                                                                                           \
    "  PERFORM tams_stats_batch_add(p_flow, v_lo, v_hi, v_ob, sel, fresh, tail);\n"

const char tams_schema_pg_segments_add_v3[] = STATS_BATCH_OBJS
    "CREATE OR REPLACE FUNCTION tams_segments_add(p_flow text, p_now text, p_rows json)"
    " RETURNS TABLE(r_code int, r_lo bigint, r_hi bigint, r_lo_incl int, r_hi_incl int)"
    " LANGUAGE plpgsql AS $f$\n"
    "DECLARE\n"
    "  it segments[];\n"
    "  v_lo bigint[];\n"
    "  v_hi bigint[];\n"
    "  v_ob text[];\n"
    "  n int;\n"
    "  tail bigint;\n"
    "  clean boolean := false;\n"
    "  prev record;\n"
    "  obj record;\n"
    "  run_obj text := NULL;\n"
    "  run_n bigint := 0;\n"
    "  c bigint;\n"
    "  sel boolean[];\n"
    "  fresh text[];\n"
    "  sz_id text[];\n"
    "  sz bigint[];\n"
    "  g_ob text[];\n"
    "  g_c bigint[];\n"
    "  g_sid text[];\n"
    "  g_size bigint[];\n"
    "  g_new boolean[];\n"
    "  u_ob text[];\n"
    "  u_size bigint[];\n"
    "  x_ob text[];\n"
    "  fresh_i bigint[];\n"
    "BEGIN\n"
    "  SELECT array_agg(x.object_id), array_agg(x.object_size) INTO sz_id, sz\n"
    "    FROM json_to_recordset(p_rows) AS x(object_id text, object_size bigint)\n"
    "    WHERE x.object_size IS NOT NULL;\n"
    "  SELECT array_agg(r), array_agg(r.lo), array_agg(r.hi), array_agg(r.object_id)\n"
    "    INTO it, v_lo, v_hi, v_ob FROM json_populate_recordset(json_populate_record(\n"
    "      NULL::segments, json_build_object('flow_id', p_flow)), p_rows) AS r;\n"
    "  n := coalesce(array_length(it, 1), 0);\n"
    "  PERFORM 1 FROM flows WHERE id = p_flow FOR KEY SHARE;\n"
    "  IF NOT FOUND THEN\n"
    "    RAISE foreign_key_violation USING MESSAGE = 'no flow ' || p_flow;\n"
    "  END IF;\n"
    "  SELECT s.hi INTO tail FROM segments s WHERE s.flow_id = p_flow\n"
    "    ORDER BY s.lo DESC LIMIT 1;\n"
    "  IF n > 1 THEN\n" CLEAN_CHECK CLEAN_WRITE "  END IF;\n" EACH_ITEM "END\n"
    "$f$;";
