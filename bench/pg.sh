#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# PostgreSQL against SQLite (issue 7): two tamsd side by side, one on SQLite (its data dir), one on
# a throwaway PostgreSQL cluster started here (its own data dir too), filled identically through
# the API, then measured interleaved round by round (the order of the two alternates per round):
#   A. GET /flows/{id} with a warm flow cache: throughput (-c$CONNECTIONS) and one-connection
#      latency; /metrics must show the PostgreSQL rounds were cache hits;
#   B. GET /flows/{id}/segments?timerange=<WINDOW s window at a random position>&limit=100 on a
#      flow of MID segments: one-connection latency and throughput (-c$CONNECTIONS);
#   C. bulk registration of fresh objects (POST arrays of 1,000; gen_segments.py --mode fresh),
#      and after each PostgreSQL round a raw COPY of the same rows (the floor);
#   D. one write, PUT /flows/{id}/label, one-connection latency (information).
# Ratios are PostgreSQL against SQLite from the same run; the issue-7 target is GET /flows/{id}
# warm on PostgreSQL within 1.2x of SQLite (req/s SQLite/PG and p50 PG/SQLite).
#
# Env: FLOWS (10000 flows by gen_flows.py; the GET /flows/{id} store), MID (200000 segments in
# the segment flow), DUR (2 s per segment), WINDOW (10 s), ROUNDS (5), DURATION (5s), CONNECTIONS
# (32, throughput), LAT_CONNECTIONS (1), LAT_PIN (1: latency parts with both tamsd and every
# PostgreSQL process on core 0, wrk on core 1; 0 unpinned), WRK_THREADS (1), THREADS (nproc, both
# tamsd), GEN_CONNS (4), BULK (20000 fresh segments per bulk round and store; gen_segments.py
# uploads a few bytes to every fresh object first, untimed but slow), BULK_ROUNDS (3),
# PG_POOL (0: tamsd's default of 2 x THREADS connections; else --db-pool-size), PG_SHARED_BUFFERS
# (256MB), PG_FSYNC (on), PG_SYNC_COMMIT (on; synchronous_commit), PG_CONF (extra
# postgresql.conf lines, separated by ';'), PG_STATEMENTS=1 (load pg_stat_statements with
# track_planning; the top statements by time, with their plan counts, to
# bench/out/pg-statements.txt), TAMSD_ARGS (extra flags for both tamsd), PROFILE=1
# (perf of the PostgreSQL tamsd and its backends during one segment throughput round and one bulk
# round, to bench/out/pg-perf-{get,bulk}.txt), BENCH_NO_BUILD=1, PG_JSON.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

FLOWS=${FLOWS:-10000}
MID=${MID:-200000}
DUR=${DUR:-2}
WINDOW=${WINDOW:-10}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
LAT_CONNECTIONS=${LAT_CONNECTIONS:-1}
LAT_PIN=${LAT_PIN:-1}
WRK_THREADS=${WRK_THREADS:-1}
THREADS=${THREADS:-$(nproc)}
GEN_CONNS=${GEN_CONNS:-4}
BULK=${BULK:-20000}
BULK_ROUNDS=${BULK_ROUNDS:-3}
PG_POOL=${PG_POOL:-0}
PG_SHARED_BUFFERS=${PG_SHARED_BUFFERS:-256MB}
PG_FSYNC=${PG_FSYNC:-on}
PG_SYNC_COMMIT=${PG_SYNC_COMMIT:-on}
PG_CONF=${PG_CONF:-}
PG_STATEMENTS=${PG_STATEMENTS:-0}
TAMSD_ARGS=${TAMSD_ARGS:-}
OUT_JSON=${PG_JSON:-$BENCH_OUT/pg.json}
DB=tams_bench

for v in FLOWS MID DUR WINDOW ROUNDS THREADS GEN_CONNS BULK BULK_ROUNDS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
[[ $PG_POOL =~ ^[0-9]+$ ]] || bench_die "PG_POOL must be a non-negative integer"
((MID * DUR > WINDOW)) || bench_die "the segment flow (MID x DUR s) must be longer than WINDOW"
command -v wrk >/dev/null || bench_die "wrk not installed (apt-get install -y wrk)"
command -v psql >/dev/null || bench_die "psql not installed (apt-get install -y postgresql-client)"
((LAT_PIN == 0)) || command -v taskset >/dev/null || bench_die "LAT_PIN=1 needs taskset"
export BENCH_DURATION=$DURATION BENCH_WRK_THREADS=$WRK_THREADS
read -ra tamsd_args <<<"$TAMSD_ARGS"

bench_init
bench_pin_layout 0
bench_build_tamsd
machine=$(bench_machine)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t_start=$SECONDS
loads=()
# note_load PART: remember the 1-minute load average at the start of PART.
note_load() { loads+=("$1 $(cut -d' ' -f1 /proc/loadavg)"); }
note_load start

# ---- PostgreSQL ----------------------------------------------------------------------------------
# What an operator would set for a small production box (2 cores, a few GB for the database),
# not a test cluster: durability on unless PG_FSYNC / PG_SYNC_COMMIT say otherwise.
pg_conf="max_connections = 100
shared_buffers = $PG_SHARED_BUFFERS
effective_cache_size = 1GB
work_mem = 8MB
maintenance_work_mem = 128MB
wal_buffers = 16MB
max_wal_size = 2GB
checkpoint_timeout = 15min
checkpoint_completion_target = 0.9
random_page_cost = 1.1
effective_io_concurrency = 200
fsync = $PG_FSYNC
synchronous_commit = $PG_SYNC_COMMIT
full_page_writes = on"
if ((PG_STATEMENTS == 1)); then
	pg_conf+=$'\n'"shared_preload_libraries = 'pg_stat_statements'"
	pg_conf+=$'\n'"pg_stat_statements.track_planning = on"
fi
[[ -z $PG_CONF ]] || pg_conf+=$'\n'${PG_CONF//;/$'\n'}
bench_start_pg pg "$pg_conf" || bench_die "PostgreSQL failed to start"
psql "$PG_URL/postgres" -qAt -c "CREATE DATABASE $DB" >/dev/null || bench_die "CREATE DATABASE failed"
if ((PG_STATEMENTS == 1)); then
	psql "$PG_URL/$DB" -qAt -c "CREATE EXTENSION pg_stat_statements" >/dev/null ||
		bench_die "CREATE EXTENSION pg_stat_statements failed"
fi
pg_settings=$(psql "$PG_URL/$DB" -qAt -F= -c "SELECT name, setting || COALESCE(unit, '') FROM pg_settings
	WHERE name IN ('shared_buffers', 'effective_cache_size', 'work_mem', 'wal_buffers', 'max_wal_size',
	'checkpoint_timeout', 'random_page_cost', 'fsync', 'synchronous_commit', 'full_page_writes',
	'wal_level', 'max_connections', 'jit', 'shared_preload_libraries') ORDER BY name" | paste -sd' ' -)
# sql QUERY: one query against the bench database, unaligned output.
sql() { psql "$PG_URL/$DB" -qAt -c "$1"; }

# ---- the two tamsd ------------------------------------------------------------------------------
stores=(sqlite pg)
declare -A url pid
bench_start_tamsd sqlite "$THREADS" "${tamsd_args[@]}" || bench_die "tamsd (sqlite) failed to start"
url[sqlite]=$TAMSD_URL pid[sqlite]=$TAMSD_PID
bench_start_tamsd pg "$THREADS" --database "$PG_URL/$DB" --db-pool-size "$PG_POOL" \
	"${tamsd_args[@]}" || bench_die "tamsd (pg) failed to start"
url[pg]=$TAMSD_URL pid[pg]=$TAMSD_PID
pool_line=$(grep -o 'pool of [0-9]* connections' "$BENCH_TMP/pg/tamsd.log" | head -1) || true

echo "# PostgreSQL vs SQLite, $started"
echo "# machine: $machine"
echo "# tree: $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$BENCH_ROOT" diff --quiet HEAD -- src 2>/dev/null || echo " + uncommitted changes in src/")"
echo "# tamsd: --threads $THREADS${TAMSD_ARGS:+ $TAMSD_ARGS}; PostgreSQL tamsd --db-pool-size $PG_POOL (${pool_line:-pool size not logged})"
echo "# PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT (TCP), data dir on $(df -P "$PG_DATA" | awk 'NR == 2 { print $1 }'): $pg_settings"
echo "# SQLite: tamsd's own settings (WAL, synchronous = NORMAL: commits are not fsynced, checkpoints are)"

# ---- fill, identically --------------------------------------------------------------------------
note_load fill
SEG_FLOW=5e9a1c6e-0000-4000-8000-0000000000a7
declare -A fill_flows fill_segs
for s in "${stores[@]}"; do
	fill_flows[$s]=$(bench_python gen_flows.py --url "${url[$s]}" --count "$FLOWS" \
		--conns "$GEN_CONNS") || bench_die "gen_flows ($s) failed"
	fill_segs[$s]=$(bench_python gen_segments.py --url "${url[$s]}" --flow "$SEG_FLOW" \
		--count "$MID" --dur "$DUR" --conns "$GEN_CONNS") || bench_die "gen_segments ($s) failed"
	tr=$(curl -sf "${url[$s]}/flows/$SEG_FLOW?include_timerange=true" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["timerange"])') ||
		bench_die "GET segment flow ($s) failed"
	[[ $tr == "[0:0_$((MID * DUR)):0)" ]] || bench_die "segment flow ($s) timerange $tr"
	echo "# fill $s: $FLOWS flows ${fill_flows[$s]}"
	echo "# fill $s: $MID segments ${fill_segs[$s]}"
done
fid=$(bench_json_get "${fill_flows[sqlite]}" sample_id)
[[ $fid == "$(bench_json_get "${fill_flows[pg]}" sample_id)" ]] || bench_die "the stores differ"
echo "# size after fill: SQLite tams.db with WAL $(du -ch "$BENCH_TMP/sqlite/data"/tams.db* | awk 'END { print $1 }')," \
	"PostgreSQL database $(sql "SELECT pg_size_pretty(pg_database_size('$DB'))")"
seq_before=$(sql "SELECT COALESCE(sum(seq_scan), 0) FROM pg_stat_user_tables") || bench_die "psql failed"

# ---- helpers --------------------------------------------------------------------------------------
# cache_counts URL: print "hits misses" of tams_flow_cache_requests_total from /metrics.
cache_counts() {
	curl -sf "$1/metrics" | awk '
		/^tams_flow_cache_requests_total\{result="hit"\}/ { h = $2 }
		/^tams_flow_cache_requests_total\{result="miss"\}/ { m = $2 }
		END { if (h == "" || m == "") exit 1; printf "%d %d\n", h, m }'
}
# wrk_requests: the number of requests of the last bench_wrk.
wrk_requests() { awk '/ requests in / { print $1 }' "$BENCH_TMP/wrk.last"; }
# pin CPUS: move both tamsd, the postmaster and every backend to CPUS.
pin() {
	local p
	# shellcheck disable=SC2046
	for p in "${pid[@]}" $(bench_pg_pids "$PG_PID" | tr , ' '); do
		taskset -a -p -c "$1" "$p" >/dev/null 2>&1 || true # a backend may just have gone
	done
}
lat_layout="unpinned"
saved_client_cpus=$BENCH_CLIENT_CPUS
# lat_begin / lat_end: around the one-connection parts (LAT_PIN=1: servers core 0, wrk core 1).
lat_begin() {
	export BENCH_CONNECTIONS=$LAT_CONNECTIONS
	if ((LAT_PIN == 1)); then
		pin 0
		BENCH_CLIENT_CPUS=1
		lat_layout="pinned: both tamsd and all PostgreSQL processes on core 0, wrk on core 1"
	fi
}
lat_end() {
	export BENCH_CONNECTIONS=$CONNECTIONS
	if ((LAT_PIN == 1)); then
		pin "0-$(($(nproc) - 1))"
		BENCH_CLIENT_CPUS=$saved_client_cpus
	fi
}
# order R: the two stores in the order of round R (alternating, so neither always goes first).
order() { if (($1 % 2)); then echo sqlite pg; else echo pg sqlite; fi; }
errors=0
json=()
# rounds NAME WHAT FN: ROUNDS interleaved rounds of "FN STORE" (prints "rps p50 p99 errors");
# leaves the per-store lists in R_RPS, R_P50, R_P99 and the medians in M_RPS, M_P50.
declare -A R_RPS R_P50 R_P99 M_RPS M_P50
rounds() {
	local name=$1 fn=$2 r s a b c e
	R_RPS=() R_P50=() R_P99=()
	printf '%-6s %-7s %12s %9s %9s %7s\n' round store req/s p50_ms p99_ms errors
	for ((r = 1; r <= ROUNDS; r++)); do
		for s in $(order "$r"); do
			# Not in a subshell: FN may count (get_flow) or remember (seg_profiled).
			"$fn" "$s" >"$BENCH_TMP/round.res" || bench_die "wrk failed ($name, $s, round $r)"
			read -r a b c e <"$BENCH_TMP/round.res" || true
			[[ -n ${a:-} ]] || bench_die "wrk failed ($name, $s, round $r)"
			printf '%-6s %-7s %12s %9s %9s %7s\n' "$r" "$s" "$a" "$b" "$c" "$e"
			R_RPS[$s]+=" $a" R_P50[$s]+=" $b" R_P99[$s]+=" $c"
			errors=$((errors + e))
		done
	done
	for s in "${stores[@]}"; do
		# shellcheck disable=SC2086
		M_RPS[$s]=$(bench_median ${R_RPS[$s]}) M_P50[$s]=$(bench_median ${R_P50[$s]})
	done
}

# latency_part TITLE FN NAME EXTRA_JSON: FN's latency rounds on both stores, laid out by
# lat_begin, after a 1 s warm-up of each; prints the median p50 line and adds the JSON row NAME
# (EXTRA_JSON: more members, each with a leading comma). The PG/SQLite ratio is left in
# lat_ratio, the medians in M_P50.
latency_part() {
	local title=$1 fn=$2 name=$3 extra=$4 s
	lat_begin
	echo "$title ($lat_layout)"
	for s in "${stores[@]}"; do BENCH_DURATION=1s "$fn" "$s" >/dev/null || bench_die "warm-up ($s)"; done
	rounds "$fn" "$fn"
	lat_ratio=$(bench_ratio "${M_P50[pg]}" "${M_P50[sqlite]}")
	printf 'median p50 SQLite %s ms, PostgreSQL %s ms; ratio PG/SQLite %s\n' "${M_P50[sqlite]}" "${M_P50[pg]}" "$lat_ratio"
	json+=("$(row_json "$name" "$lat_layout" "$extra,\"ratio_p50_pg_over_sqlite\":$lat_ratio")")
	lat_end
}
# row_json PART: one JSON line of the last rounds.
row_json() {
	# shellcheck disable=SC2086
	printf '{"bench":"pg","time":"%s","part":"%s","connections":%s,"layout":%s,"rps_sqlite":%s,"rps_pg":%s,"p50_sqlite_ms":%s,"p50_pg_ms":%s,"rpss_sqlite":%s,"rpss_pg":%s,"p50s_sqlite_ms":%s,"p50s_pg_ms":%s,"p99s_sqlite_ms":%s,"p99s_pg_ms":%s%s}' \
		"$started" "$1" "$BENCH_CONNECTIONS" "$(bench_json_str "$2")" "${M_RPS[sqlite]}" "${M_RPS[pg]}" \
		"${M_P50[sqlite]}" "${M_P50[pg]}" "$(bench_json_array ${R_RPS[sqlite]})" \
		"$(bench_json_array ${R_RPS[pg]})" "$(bench_json_array ${R_P50[sqlite]})" \
		"$(bench_json_array ${R_P50[pg]})" "$(bench_json_array ${R_P99[sqlite]})" \
		"$(bench_json_array ${R_P99[pg]})" "${3:-}"
}

# ---- A. GET /flows/{id}, warm cache ---------------------------------------------------------------
note_load get_flow
# PostgreSQL: an instance trusts its cache only once its lease has run long enough (pg_peers.h):
# wait until two GETs in a row are a hit there.
for ((i = 0; ; i++)); do
	((i < 100)) || bench_die "the PostgreSQL tamsd never served GET /flows/{id} from its cache"
	curl -sf -o /dev/null "${url[pg]}/flows/$fid" || bench_die "GET /flows/$fid failed"
	read -r h0 _ < <(cache_counts "${url[pg]}") || bench_die "no flow cache counters in /metrics"
	curl -sf -o /dev/null "${url[pg]}/flows/$fid"
	read -r h1 _ < <(cache_counts "${url[pg]}")
	((h1 > h0)) && break
	sleep 0.2
done
body_len=$(curl -sf "${url[sqlite]}/flows/$fid" | wc -c)
export BENCH_CONNECTIONS=$CONNECTIONS
for s in "${stores[@]}"; do
	BENCH_DURATION=1s bench_wrk "${url[$s]}/flows/$fid" >/dev/null || bench_die "warm-up ($s)"
done
declare -A hits0 miss0 reqs
for s in "${stores[@]}"; do read -r "hits0[$s]" "miss0[$s]" < <(cache_counts "${url[$s]}"); done
reqs[sqlite]=0 reqs[pg]=0
# get_flow STORE: one round of GET /flows/{id}; counts the requests wrk made.
get_flow() {
	local res
	res=$(bench_wrk "${url[$1]}/flows/$fid") || return 1
	reqs[$1]=$((reqs[$1] + $(wrk_requests)))
	printf '%s\n' "$res"
}
echo
echo "## A. GET /flows/{id} ($FLOWS flows, body $body_len bytes), warm cache: throughput; wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency"
rounds get_flow get_flow
hitnote=""
for s in "${stores[@]}"; do
	read -r h m < <(cache_counts "${url[$s]}")
	hitnote+="$s: $((h - hits0[$s])) hits, $((m - miss0[$s])) misses for ${reqs[$s]} requests; "
	if [[ $s == pg ]] && (((m - miss0[$s]) * 100 > reqs[$s])); then
		bench_die "more than 1% of the PostgreSQL GET /flows/{id} were cache misses ($hitnote)"
	fi
done
gf_s=${M_RPS[sqlite]} gf_p=${M_RPS[pg]}
gf_ratio=$(bench_ratio "$gf_s" "$gf_p")
gf_verdict=$(bench_verdict "$gf_ratio" le 1.2)
printf 'median req/s SQLite %.0f, PostgreSQL %.0f; ratio SQLite/PG %s (%s target <= 1.2)\n' \
	"${M_RPS[sqlite]}" "${M_RPS[pg]}" "$gf_ratio" "$gf_verdict"
echo "flow cache during these rounds: ${hitnote%; }"
json+=("$(row_json get_flow_throughput unpinned ",\"ratio_rps_sqlite_over_pg\":$gf_ratio,\"target\":1.2,\"cache\":$(bench_json_str "${hitnote%; }")")")

echo
lat_begin
echo "## A. GET /flows/{id}, warm cache: latency; wrk -t$WRK_THREADS -c$LAT_CONNECTIONS -d$DURATION --latency ($lat_layout)"
for s in "${stores[@]}"; do
	BENCH_DURATION=1s bench_wrk "${url[$s]}/flows/$fid" >/dev/null || bench_die "warm-up ($s)"
done
for s in "${stores[@]}"; do read -r "hits0[$s]" "miss0[$s]" < <(cache_counts "${url[$s]}"); done
reqs[sqlite]=0 reqs[pg]=0
rounds get_flow get_flow
read -r h m < <(cache_counts "${url[pg]}")
(((m - miss0[pg]) * 100 <= reqs[pg])) ||
	bench_die "more than 1% of the PostgreSQL GET /flows/{id} were cache misses ($((m - miss0[pg])) of ${reqs[pg]})"
gl_s=${M_P50[sqlite]} gl_p=${M_P50[pg]}
gl_ratio=$(bench_ratio "$gl_p" "$gl_s")
gl_verdict=$(bench_verdict "$gl_ratio" le 1.2)
printf 'median p50 SQLite %s ms, PostgreSQL %s ms; ratio PG/SQLite %s (%s target <= 1.2); PostgreSQL: %s hits, %s misses\n' \
	"${M_P50[sqlite]}" "${M_P50[pg]}" "$gl_ratio" "$gl_verdict" "$((h - hits0[pg]))" "$((m - miss0[pg]))"
json+=("$(row_json get_flow_latency "$lat_layout" ",\"ratio_p50_pg_over_sqlite\":$gl_ratio,\"target\":1.2,\"pg_hits\":$((h - hits0[pg])),\"pg_misses\":$((m - miss0[pg]))")")
lat_end # after the row: it records the one-connection count

# ---- B. segment window queries ------------------------------------------------------------------
note_load segments
lua=$BENCH_TMP/segments.lua
bench_segments_lua "$lua"
# seg STORE: one round of the random-window query; fails on any empty answer.
seg() {
	local res
	res=$(SEG_FLOW=$SEG_FLOW SEG_SPAN=$((MID * DUR)) SEG_WINDOW=$WINDOW \
		bench_wrk "${url[$1]}/" -s "$lua") || return 1
	grep -q '^empty answers: 0$' "$BENCH_TMP/wrk.last" || {
		bench_log "empty segment lists from $1: $(grep '^empty answers' "$BENCH_TMP/wrk.last")"
		return 1
	}
	printf '%s\n' "$res"
}
for s in "${stores[@]}"; do
	n=$(curl -sf "${url[$s]}/flows/$SEG_FLOW/segments?timerange=%5B1000:0_$((1000 + WINDOW)):0%29&limit=100" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') || bench_die "GET segments ($s) failed"
	((n >= WINDOW / DUR)) || bench_die "a $WINDOW s window gave $n segments ($s)"
done
echo
latency_part "## B. GET segments, random $WINDOW s window, limit=100, flow of $MID segments: latency; wrk -t$WRK_THREADS -c$LAT_CONNECTIONS -d$DURATION --latency -s segments.lua" \
	seg segments_latency ",\"segments\":$MID"
sl_s=${M_P50[sqlite]} sl_p=${M_P50[pg]} sl_ratio=$lat_ratio

echo
echo "## B. GET segments, same script: throughput; wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency -s segments.lua (unpinned)"
for s in "${stores[@]}"; do BENCH_DURATION=1s seg "$s" >/dev/null || bench_die "warm-up ($s)"; done
# seg_profiled STORE: seg, with a perf profile of the PostgreSQL side in its first round.
profiled=0
seg_profiled() {
	if [[ $1 == pg && $profiled == 0 ]]; then
		bench_profile "${pid[pg]},$(bench_pg_pids "$PG_PID")" 4 "$BENCH_OUT/pg-perf-get.txt"
	fi
	seg "$1" || return 1
	if [[ $1 == pg && $profiled == 0 ]]; then
		bench_profile_end
		profiled=1
	fi
}
rounds seg seg_profiled
st_s=${M_RPS[sqlite]} st_p=${M_RPS[pg]}
st_ratio=$(bench_ratio "$st_s" "$st_p")
printf 'median req/s SQLite %.0f, PostgreSQL %.0f; ratio SQLite/PG %s\n' "${M_RPS[sqlite]}" "${M_RPS[pg]}" "$st_ratio"
json+=("$(row_json segments_throughput unpinned ",\"segments\":$MID,\"ratio_rps_sqlite_over_pg\":$st_ratio")")

# ---- C. bulk registration -------------------------------------------------------------------------
note_load bulk
echo
echo "## C. bulk registration: $BULK_ROUNDS x $BULK fresh segments per store (POST arrays of 1000, $GEN_CONNS connections) into the $MID-segment flow"
declare -A brate brate_alloc
first=$MID
bulk_json=()
# The floor: after each PostgreSQL round, the same rows written by a raw COPY from psql into a
# table of the same columns and indexes (copy_target, filled first with the flow as it was, so
# its indexes are as deep), with no rule checked and nothing else written.
sql "CREATE TABLE copy_target (LIKE segments INCLUDING ALL)"
sql "INSERT INTO copy_target SELECT * FROM segments WHERE flow_id = '$SEG_FLOW'" >/dev/null
copy_rates=""
# raw_copy LO: COPY the segments the round starting at segment LO registered; prints segments/s.
raw_copy() {
	local lo=$(($1 * DUR * 1000000000)) hi=$((($1 + BULK) * DUR * 1000000000)) f=$BENCH_TMP/copy.txt ms
	sql "COPY (SELECT * FROM segments WHERE flow_id = '$SEG_FLOW' AND lo >= $lo AND lo < $hi) TO STDOUT" >"$f"
	(($(wc -l <"$f") == BULK)) || bench_die "raw COPY: expected $BULK rows of the round"
	ms=$(psql "$PG_URL/$DB" -qAt -c '\timing on' -c "COPY copy_target FROM STDIN" <"$f" |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
	[[ -n $ms ]] || bench_die "raw COPY: no timing"
	awk -v n="$BULK" -v ms="$ms" 'BEGIN { printf "%.0f", n / (ms / 1000) }'
}
printf '%-6s %-7s %10s %12s %10s %10s %12s %12s\n' round store held seg/s alloc_s upload_s register_s copy_seg/s
for ((r = 1; r <= BULK_ROUNDS; r++)); do
	for s in $(order "$r"); do
		if ((r == 1)) && [[ $s == pg ]]; then
			bench_profile "${pid[pg]},$(bench_pg_pids "$PG_PID")" 3 "$BENCH_OUT/pg-perf-bulk.txt"
		fi
		out=$(bench_python gen_segments.py --url "${url[$s]}" --flow "$SEG_FLOW" --no-create \
			--mode fresh --count "$BULK" --first "$first" --dur "$DUR" --conns "$GEN_CONNS") ||
			bench_die "bulk round $r ($s) failed"
		if [[ $s == pg ]]; then bench_profile_end; fi
		rate=$(bench_json_get "$out" segments_per_s)
		brate[$s]+=" $rate"
		brate_alloc[$s]+=" $(bench_json_get "$out" segments_per_s_incl_alloc)"
		copy=-
		if [[ $s == pg ]]; then
			copy=$(raw_copy "$first")
			copy_rates+=" $copy"
		fi
		printf '%-6s %-7s %10s %12s %10s %10s %12s %12s\n' "$r" "$s" "$first" "$rate" \
			"$(bench_json_get "$out" alloc_s)" "$(bench_json_get "$out" upload_s 2>/dev/null || echo -)" \
			"$(bench_json_get "$out" register_s)" "$copy"
		bulk_json+=("{\"bench\":\"pg\",\"time\":\"$started\",\"part\":\"bulk\",\"store\":\"$s\",\"round\":$r,\"result\":$out}")
	done
	first=$((first + BULK))
done
declare -A bmed bmed_alloc
for s in "${stores[@]}"; do
	# shellcheck disable=SC2086
	bmed[$s]=$(bench_median ${brate[$s]}) bmed_alloc[$s]=$(bench_median ${brate_alloc[$s]})
done
b_ratio=$(bench_ratio "${bmed[sqlite]}" "${bmed[pg]}")
# shellcheck disable=SC2086
copy_med=$(bench_median $copy_rates)
copy_ratio=$(bench_ratio "$copy_med" "${bmed[pg]}")
printf 'raw COPY of the same rows %.0f segments/s; ratio COPY/registration %s\n' "$copy_med" "$copy_ratio"
printf 'median registration SQLite %.0f, PostgreSQL %.0f segments/s; ratio SQLite/PG %s; counting allocation SQLite %.0f, PostgreSQL %.0f\n' \
	"${bmed[sqlite]}" "${bmed[pg]}" "$b_ratio" "${bmed_alloc[sqlite]}" "${bmed_alloc[pg]}"

# ---- D. one write ---------------------------------------------------------------------------------
note_load put_label
wlua=$BENCH_TMP/label.lua
cat >"$wlua" <<'EOF'
wrk.method = "PUT"
wrk.body = '"bench label"'
wrk.headers["Content-Type"] = "application/json"
EOF
lbl=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
	--data '"bench label"' "${url[pg]}/flows/$fid/label") || true
[[ $lbl == 2* ]] || bench_die "PUT /flows/$fid/label gave HTTP $lbl"
# put_label STORE: one round of PUT /flows/{id}/label.
put_label() { bench_wrk "${url[$1]}/flows/$fid/label" -s "$wlua"; }
echo
latency_part "## D. PUT /flows/{id}/label (one write transaction each): latency; wrk -t$WRK_THREADS -c$LAT_CONNECTIONS -d$DURATION --latency" \
	put_label put_label_latency ""
w_s=${M_P50[sqlite]} w_p=${M_P50[pg]} w_ratio=$lat_ratio

# ---- the end --------------------------------------------------------------------------------------
note_load end
echo
for s in "${stores[@]}"; do
	kill -0 "${pid[$s]}" 2>/dev/null || bench_die "tamsd ($s) died during the run"
done
seq_after=$(sql "SELECT COALESCE(sum(seq_scan), 0) FROM pg_stat_user_tables")
echo "PostgreSQL tables with sequential scans (whole run, including the fill; $((seq_after - seq_before)) after it):"
sql "SELECT relname, seq_scan, seq_tup_read, COALESCE(idx_scan, 0), n_live_tup FROM pg_stat_user_tables
	WHERE seq_scan > 0 ORDER BY seq_tup_read DESC, relname" |
	awk -F'|' 'BEGIN { printf "  %-20s %9s %13s %11s %10s\n", "table", "seq_scan", "seq_tup_read", "idx_scan", "rows" }
		{ printf "  %-20s %9s %13s %11s %10s\n", $1, $2, $3, $4, $5 }'
if ((PG_STATEMENTS == 1)); then
	{
		echo "exec_ms|plan_ms|calls|plans|mean_exec_ms|statement (whole run, fill included)"
		sql "SELECT round(total_exec_time::numeric, 1), round(total_plan_time::numeric, 1), calls,
			plans, round(mean_exec_time::numeric, 4), left(regexp_replace(query, '\s+', ' ', 'g'), 160)
			FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 30"
	} >"$BENCH_OUT/pg-statements.txt"
	echo "top statements by total time: $BENCH_OUT/pg-statements.txt"
fi
rss_s=$(bench_rss_kb "${pid[sqlite]}") rss_p=$(bench_rss_kb "${pid[pg]}")
size_s=$(du -ck "$BENCH_TMP/sqlite/data"/tams.db* | awk 'END { print $1 }') # with -wal, -shm
size_p=$(($(sql "SELECT pg_database_size('$DB')") / 1024))
echo "VmRSS tamsd: SQLite ${rss_s} kB, PostgreSQL ${rss_p} kB; store size: SQLite tams.db with WAL ${size_s} kB, PostgreSQL database ${size_p} kB"
echo "load average (1 min) at the start of each part: ${loads[*]}"
((errors == 0)) || bench_log "warning: $errors non-2xx responses or socket errors during the run"
elapsed=$((SECONDS - t_start))
echo "run took ${elapsed} s"

echo
echo "## summary (PostgreSQL against SQLite, same run, medians of $ROUNDS rounds)"
printf '%-58s %12s %12s %9s\n' measure SQLite PostgreSQL ratio
srow() { printf '%-58s %12s %12s %9s\n' "$@"; }
srow "GET /flows/{id} warm, req/s -c$CONNECTIONS (ratio SQLite/PG)" "$gf_s" "$gf_p" "$gf_ratio"
srow "GET /flows/{id} warm, p50 ms -c$LAT_CONNECTIONS (ratio PG/SQLite)" "$gl_s" "$gl_p" "$gl_ratio"
srow "segments window, p50 ms -c$LAT_CONNECTIONS (PG/SQLite)" "$sl_s" "$sl_p" "$sl_ratio"
srow "segments window, req/s -c$CONNECTIONS (SQLite/PG)" "$st_s" "$st_p" "$st_ratio"
srow "bulk registration, segments/s (SQLite/PG)" "${bmed[sqlite]}" "${bmed[pg]}" "$b_ratio"
srow "bulk incl. allocation, segments/s" "${bmed_alloc[sqlite]}" "${bmed_alloc[pg]}" "-"
srow "raw COPY of the same rows, segments/s (COPY/PG)" "-" "$copy_med" "$copy_ratio"
srow "PUT /flows/{id}/label, p50 ms -c$LAT_CONNECTIONS (PG/SQLite)" "$w_s" "$w_p" "$w_ratio"
echo "GET /flows/{id} warm: req/s ratio $gf_ratio ($gf_verdict), p50 ratio $gl_ratio ($gl_verdict); target <= 1.2"

{
	printf '{"bench":"pg","time":"%s","part":"settings","threads":%s,"rounds":%s,"duration":%s,"pg_pool":%s,"pool":%s,"pg_version":"%s","pg_settings":%s,"tamsd_args":%s,"flows":%s,"segments":%s,"window_s":%s,"bulk":%s,"bulk_rounds":%s}\n' \
		"$started" "$THREADS" "$ROUNDS" "$(bench_json_str "$DURATION")" "$PG_POOL" \
		"$(bench_json_str "$pool_line")" "$PG_VERSION" "$(bench_json_str "$pg_settings")" \
		"$(bench_json_str "$TAMSD_ARGS")" "$FLOWS" "$MID" "$WINDOW" "$BULK" "$BULK_ROUNDS"
	for s in "${stores[@]}"; do
		printf '{"bench":"pg","time":"%s","part":"fill","store":"%s","flows":%s,"segments":%s}\n' \
			"$started" "$s" "${fill_flows[$s]}" "${fill_segs[$s]}"
	done
	printf '%s\n' "${json[@]}"
	printf '%s\n' "${bulk_json[@]}"
	# shellcheck disable=SC2086
	printf '{"bench":"pg","time":"%s","part":"bulk_summary","median_per_s_sqlite":%s,"median_per_s_pg":%s,"median_per_s_incl_alloc_sqlite":%s,"median_per_s_incl_alloc_pg":%s,"rates_sqlite":%s,"rates_pg":%s,"ratio_sqlite_over_pg":%s,"median_per_s_raw_copy":%s,"rates_raw_copy":%s,"ratio_copy_over_pg":%s}\n' \
		"$started" "${bmed[sqlite]}" "${bmed[pg]}" "${bmed_alloc[sqlite]}" "${bmed_alloc[pg]}" \
		"$(bench_json_array ${brate[sqlite]})" "$(bench_json_array ${brate[pg]})" "$b_ratio" \
		"$copy_med" "$(bench_json_array $copy_rates)" "$copy_ratio"
	printf '{"bench":"pg","time":"%s","part":"summary","rss_kb_sqlite":%s,"rss_kb_pg":%s,"size_kb_sqlite":%s,"size_kb_pg":%s,"seq_scans_after_fill":%s,"errors":%s,"elapsed_s":%s,"loads":%s,"machine":%s}\n' \
		"$started" "$rss_s" "$rss_p" "$size_s" "$size_p" "$((seq_after - seq_before))" "$errors" \
		"$elapsed" "$(bench_json_str "${loads[*]}")" "$(bench_json_str "$machine")"
} >>"$OUT_JSON"
echo "# appended to $OUT_JSON"
