#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Segments (issue 4): fill flows with SMALL / MID / LARGE segments through the API
# (bench/gen_segments.py), then
#   1. GET /flows/{id}/segments?timerange=<WINDOW s window at a random position>&limit=100:
#      latency on SMALL, MID and LARGE (one connection, interleaved), and throughput on MID;
#   2. bulk registration of fresh objects (POST arrays of 1,000) into the MID flow;
#   3. VmRSS of every tamsd afterwards.
# Each size has its own tamsd and data dir (in the temp dir, removed on exit). LARGE is skipped
# with a note when the temp dir's filesystem has less than MIN_FREE_GB free.
#
# Env: SMALL (1000), MID (1000000), LARGE (10000000; 0 skips it), DUR (2 s per segment), WINDOW
# (10 s), ROUNDS (5), DURATION (5s), CONNECTIONS (32, throughput), LAT_CONNECTIONS (1), LAT_PIN (1:
# latency part with every tamsd on core 0 and wrk on core 1; 0 leaves it unpinned), WRK_THREADS
# (1), THREADS (nproc), PIN=1, GEN_CONNS (4), BULK (200000 fresh segments per bulk round),
# BULK_ROUNDS (3), MIN_FREE_GB (10), PROFILE=1 (perf profiles of the MID tamsd during one
# throughput round and one bulk round, to bench/out/segments-perf-*.txt), BENCH_NO_BUILD=1,
# SEGMENTS_JSON.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SMALL=${SMALL:-1000}
MID=${MID:-1000000}
LARGE=${LARGE:-10000000}
DUR=${DUR:-2}
WINDOW=${WINDOW:-10}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
LAT_CONNECTIONS=${LAT_CONNECTIONS:-1}
WRK_THREADS=${WRK_THREADS:-1}
THREADS=${THREADS:-$(nproc)}
PIN=${PIN:-0}
GEN_CONNS=${GEN_CONNS:-4}
BULK=${BULK:-200000}
BULK_ROUNDS=${BULK_ROUNDS:-3}
MIN_FREE_GB=${MIN_FREE_GB:-10}
LAT_PIN=${LAT_PIN:-1}
OUT_JSON=${SEGMENTS_JSON:-$BENCH_OUT/segments.json}

for v in SMALL MID DUR WINDOW ROUNDS THREADS GEN_CONNS BULK BULK_ROUNDS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
[[ $LARGE =~ ^[0-9]+$ ]] || bench_die "LARGE must be a non-negative integer"
command -v wrk >/dev/null || bench_die "wrk not installed (apt-get install -y wrk)"
export BENCH_DURATION=$DURATION BENCH_WRK_THREADS=$WRK_THREADS

bench_init
bench_pin_layout "$PIN"
bench_build_tamsd
machine=$(bench_machine)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

free_gb=$(df -P -k "$BENCH_TMP" | awk 'NR == 2 { printf "%d", $4 / 1048576 }')
large_note=""
if ((LARGE > 0 && free_gb < MIN_FREE_GB)); then
	large_note="LARGE=$LARGE skipped: only ${free_gb} GB free on $(df -P "$BENCH_TMP" | awk 'NR == 2 { print $6 }') (< $MIN_FREE_GB GB)"
	bench_log "$large_note"
	LARGE=0
fi
sizes=(small mid)
((LARGE > 0)) && sizes+=(large)
declare -A count url pid fill flow
count[small]=$SMALL count[mid]=$MID count[large]=$LARGE
flow[small]=5e9a1c6e-0000-4000-8000-000000001000
flow[mid]=5e9a1c6e-0000-4000-8000-000001000000
flow[large]=5e9a1c6e-0000-4000-8000-000010000000

echo "# GET/POST /flows/{id}/segments, $started"
echo "# machine: $machine; ${free_gb} GB free in $BENCH_TMP"
echo "# layout: $BENCH_LAYOUT; THREADS=$THREADS; segments of $DUR s, windows of $WINDOW s"
[[ -z $large_note ]] || echo "# $large_note"

# ---- fill ----------------------------------------------------------------------------------------
for s in "${sizes[@]}"; do
	bench_start_tamsd "seg-$s" "$THREADS" || bench_die "tamsd ($s) failed to start"
	url[$s]=$TAMSD_URL pid[$s]=$TAMSD_PID
	fill[$s]=$(bench_python gen_segments.py --url "${url[$s]}" --flow "${flow[$s]}" \
		--count "${count[$s]}" --dur "$DUR" --conns "$GEN_CONNS") || bench_die "fill ($s) failed"
	tr=$(curl -sf "${url[$s]}/flows/${flow[$s]}?include_timerange=true" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["timerange"])') ||
		bench_die "GET flow ($s) failed"
	want="[0:0_$((count[$s] * DUR)):0)"
	[[ $tr == "$want" ]] || bench_die "flow ($s) timerange $tr, expected $want"
	du=$(du -sh "$BENCH_TMP/seg-$s/data" | cut -f1)
	echo "# fill $s (${count[$s]} segments): ${fill[$s]}; data dir $du"
done

# wrk script: each request asks for a WINDOW s window at a random whole-second position inside
# the flow (bench_segments_lua in lib.sh).
lua=$BENCH_TMP/segments.lua
bench_segments_lua "$lua"
# seg_wrk SIZE [WRK_ARGS...]: bench_wrk with the random-window script against SIZE's tamsd.
seg_wrk() {
	local s=$1 res
	shift
	res=$(SEG_FLOW=${flow[$s]} SEG_SPAN=$((count[$s] * DUR)) SEG_WINDOW=$WINDOW \
		bench_wrk "${url[$s]}/" -s "$lua" "$@") || return 1
	grep -q '^empty answers: 0$' "$BENCH_TMP/wrk.last" || {
		bench_log "empty segment lists from $s: $(grep '^empty answers' "$BENCH_TMP/wrk.last")"
		return 1
	}
	printf '%s\n' "$res"
}
# Sanity: a window returns segments.
n=$(curl -sf "${url[mid]}/flows/${flow[mid]}/segments?timerange=%5B1000:0_$((1000 + WINDOW)):0%29&limit=100" |
	python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') || bench_die "GET segments failed"
((n >= WINDOW / DUR)) || bench_die "a $WINDOW s window gave $n segments"

# ---- 1a. latency, interleaved ----------------------------------------------------------------
echo
echo "## GET segments, random $WINDOW s window, limit=100: latency; wrk -t$WRK_THREADS -c$LAT_CONNECTIONS -d$DURATION --latency -s segments.lua"
export BENCH_CONNECTIONS=$LAT_CONNECTIONS
# One connection is one request at a time: its latency is bimodal when unpinned (about 0.03 ms
# when the scheduler puts wrk and the tamsd worker on one core, 0.09 ms across cores), so by
# default (LAT_PIN=1) this part moves every tamsd to core 0 and wrk to core 1.
saved_client_cpus=$BENCH_CLIENT_CPUS
if [[ $LAT_PIN == 1 ]]; then
	for s in "${sizes[@]}"; do bench_repin "${pid[$s]}" 0; done
	BENCH_CLIENT_CPUS=1
	echo "# latency part pinned: tamsd on core 0, wrk on core 1 (LAT_PIN=1)"
fi
for s in "${sizes[@]}"; do
	BENCH_DURATION=1s seg_wrk "$s" >/dev/null || bench_die "warm-up ($s)"
done
declare -A rps p50 p99
errors=0
printf '%-6s %-6s %10s %12s %9s %9s %7s\n' round flow segments req/s p50_ms p99_ms errors
for ((r = 1; r <= ROUNDS; r++)); do
	for s in "${sizes[@]}"; do
		read -r a b c e < <(seg_wrk "$s") || bench_die "wrk failed ($s, round $r)"
		[[ -n ${a:-} ]] || bench_die "wrk failed ($s, round $r)"
		printf '%-6s %-6s %10s %12s %9s %9s %7s\n' "$r" "$s" "${count[$s]}" "$a" "$b" "$c" "$e"
		rps[$s]+=" $a" p50[$s]+=" $b" p99[$s]+=" $c"
		errors=$((errors + e))
	done
done
declare -A mp50 mrps
for s in "${sizes[@]}"; do
	# shellcheck disable=SC2086
	mp50[$s]=$(bench_median ${p50[$s]}) mrps[$s]=$(bench_median ${rps[$s]})
	printf 'median %-6s p50 %s ms (%.0f req/s on %s connection)\n' "$s" "${mp50[$s]}" "${mrps[$s]}" "$LAT_CONNECTIONS"
done
if [[ $LAT_PIN == 1 ]]; then
	for s in "${sizes[@]}"; do bench_repin "${pid[$s]}" "${BENCH_SERVER_CPUS:-0-$(($(nproc) - 1))}"; done
	BENCH_CLIENT_CPUS=$saved_client_cpus
fi
top=${sizes[-1]}
lat_ratio=$(bench_ratio "${mp50[$top]}" "${mp50[small]}")
lat_verdict=$(bench_verdict "$lat_ratio" le 1.5)
echo "ratio p50 $top/small: $lat_ratio ($lat_verdict target <= 1.5${large_note:+; LARGE skipped, so $top is compared})"
lat_json=$(for s in "${sizes[@]}"; do
	# shellcheck disable=SC2086
	printf '{"bench":"segments","time":"%s","part":"latency","flow":"%s","segments":%s,"p50_ms":%s,"rps":%s,"p50s_ms":%s,"p99s_ms":%s,"connections":%s}\n' \
		"$started" "$s" "${count[$s]}" "${mp50[$s]}" "${mrps[$s]}" "$(bench_json_array ${p50[$s]})" \
		"$(bench_json_array ${p99[$s]})" "$LAT_CONNECTIONS"
done)

# ---- 1b. throughput on MID -------------------------------------------------------------------
echo
echo "## GET segments on $MID segments: throughput; wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency -s segments.lua"
export BENCH_CONNECTIONS=$CONNECTIONS
BENCH_DURATION=1s seg_wrk mid >/dev/null || bench_die "warm-up (mid)"
trps=() tp50=()
printf '%-6s %12s %9s %9s %7s\n' round req/s p50_ms p99_ms errors
for ((r = 1; r <= ROUNDS; r++)); do
	((r == 1)) && bench_profile "${pid[mid]}" 4 "$BENCH_OUT/segments-perf-get.txt"
	read -r a b c e < <(seg_wrk mid) || bench_die "wrk failed (mid throughput, round $r)"
	[[ -n ${a:-} ]] || bench_die "wrk failed (mid throughput, round $r)"
	bench_profile_end
	printf '%-6s %12s %9s %9s %7s\n' "$r" "$a" "$b" "$c" "$e"
	trps+=("$a") tp50+=("$b")
	errors=$((errors + e))
done
thr=$(bench_median "${trps[@]}")
thr_verdict=$(bench_verdict "$thr" ge 10000)
printf 'median %.0f req/s, p50 %s ms (%s target >= 10000 req/s)\n' "$thr" "$(bench_median "${tp50[@]}")" "$thr_verdict"

# ---- 2. bulk registration of fresh objects into MID --------------------------------------------
echo
echo "## bulk registration: $BULK_ROUNDS x $BULK fresh segments (POST arrays of 1000, $GEN_CONNS connections) into the $MID-segment flow"
first=$MID brate=() brate_alloc=() bulk_json=()
for ((r = 1; r <= BULK_ROUNDS; r++)); do
	((r == 1)) && bench_profile "${pid[mid]}" 3 "$BENCH_OUT/segments-perf-bulk.txt"
	out=$(bench_python gen_segments.py --url "${url[mid]}" --flow "${flow[mid]}" --no-create \
		--mode fresh --count "$BULK" --first "$first" --dur "$DUR" --conns "$GEN_CONNS") ||
		bench_die "bulk round $r failed"
	bench_profile_end
	echo "round $r (flow held $first): $out"
	brate+=("$(bench_json_get "$out" segments_per_s)")
	brate_alloc+=("$(bench_json_get "$out" segments_per_s_incl_alloc)")
	bulk_json+=("$out")
	first=$((first + BULK))
done
bmed=$(bench_median "${brate[@]}")
bmed_alloc=$(bench_median "${brate_alloc[@]}")
b_verdict=$(bench_verdict "$bmed" ge 100000)
b_verdict_alloc=$(bench_verdict "$bmed_alloc" ge 100000)
printf 'median registration %.0f segments/s (%s target 100000); counting allocation %.0f segments/s (%s)\n' \
	"$bmed" "$b_verdict" "$bmed_alloc" "$b_verdict_alloc"

# ---- 3. resident memory ------------------------------------------------------------------------
echo
declare -A rss
rss_max=0
for s in "${sizes[@]}"; do
	kill -0 "${pid[$s]}" 2>/dev/null || bench_die "tamsd ($s) died during the run"
	rss[$s]=$(bench_rss_kb "${pid[$s]}")
	((rss[$s] > rss_max)) && rss_max=${rss[$s]}
	echo "VmRSS tamsd ($s, ${count[$s]} segments$([[ $s == mid ]] && echo " + $((BULK * BULK_ROUNDS)) bulk")): ${rss[$s]} kB"
done
rss_verdict=$(bench_verdict "$rss_max" le 102400)
echo "largest VmRSS ${rss_max} kB ($rss_verdict target < 100 MB)"
((errors == 0)) || bench_log "warning: $errors non-2xx responses or socket errors during the run"

{
	for s in "${sizes[@]}"; do
		printf '{"bench":"segments","time":"%s","part":"fill","flow":"%s","result":%s,"rss_kb":%s}\n' \
			"$started" "$s" "${fill[$s]}" "${rss[$s]}"
	done
	printf '%s\n' "$lat_json"
	printf '{"bench":"segments","time":"%s","part":"latency_ratio","compared":"%s/small","ratio_p50":%s,"target":1.5}\n' \
		"$started" "$top" "$lat_ratio"
	printf '{"bench":"segments","time":"%s","part":"throughput","segments":%s,"median_rps":%s,"rps":%s,"connections":%s,"target":10000}\n' \
		"$started" "$MID" "$thr" "$(bench_json_array "${trps[@]}")" "$CONNECTIONS"
	for o in "${bulk_json[@]}"; do
		printf '{"bench":"segments","time":"%s","part":"bulk","result":%s}\n' "$started" "$o"
	done
	printf '{"bench":"segments","time":"%s","part":"summary","bulk_median_per_s":%s,"bulk_median_per_s_incl_alloc":%s,"rss_max_kb":%s,"errors":%s,"large_note":%s,"machine":%s,"layout":%s}\n' \
		"$started" "$bmed" "$bmed_alloc" "$rss_max" "$errors" "$(bench_json_str "$large_note")" \
		"$(bench_json_str "$machine")" "$(bench_json_str "$BENCH_LAYOUT")"
} >"$OUT_JSON"
echo "# wrote $OUT_JSON"
