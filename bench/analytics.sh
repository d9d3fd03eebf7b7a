#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Analytics (issue 18, item 2): the cost of a flow's summary and of a page of its gaps does not
# grow with the flow's length. One tamsd (SQLite) holds a SMALL flow and a LARGE one, both
# filled through the API by bench/gen_segments.py, each with a few gaps (a second fill after a
# hole of HOLE segments, twice); then wrk, one connection, interleaved round by round:
#   GET /analytics/flows/{small}, GET /analytics/flows/{large},
#   GET /analytics/flows/{small}/gaps?limit=100, GET /analytics/flows/{large}/gaps?limit=100,
#   GET /analytics (the service: a sum over flows, here two).
# Prints each round and the medians of req/s and p50, the large/small ratio of median p50 for
# the summary and the gaps, and writes bench/out/analytics.json.
#
# Env: SMALL (10), LARGE (10000000), DUR (2 s per segment), HOLE (5), ROUNDS (5), DURATION (5s),
# THREADS (nproc), GEN_CONNS (4), PIN=1 (tamsd on core 0, wrk on core 1), BENCH_NO_BUILD=1,
# ANALYTICS_JSON.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SMALL=${SMALL:-10}
LARGE=${LARGE:-10000000}
DUR=${DUR:-2}
HOLE=${HOLE:-5}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
THREADS=${THREADS:-$(nproc)}
GEN_CONNS=${GEN_CONNS:-4}
PIN=${PIN:-0}
OUT_JSON=${ANALYTICS_JSON:-$BENCH_OUT/analytics.json}

for v in SMALL LARGE DUR HOLE ROUNDS THREADS GEN_CONNS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
command -v wrk >/dev/null || bench_die "wrk not installed (apt-get install -y wrk)"
export BENCH_DURATION=$DURATION BENCH_CONNECTIONS=1 BENCH_WRK_THREADS=1

bench_init
bench_pin_layout "$PIN"
bench_build_tamsd
machine=$(bench_machine)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$BENCH_OUT"

declare -A count flow fill
count[small]=$SMALL count[large]=$LARGE
flow[small]=a1a1a1a1-0000-4000-8000-000000000010
flow[large]=a1a1a1a1-0000-4000-8000-000010000000

echo "# GET /analytics/..., $started"
echo "# machine: $machine; layout: $BENCH_LAYOUT; THREADS=$THREADS"
bench_start_tamsd analytics "$THREADS" || bench_die "tamsd failed to start"
url=$TAMSD_URL

# Each flow: the bulk of its segments, then two short runs each after a hole of HOLE segments,
# so it has two gaps; the last run's end is the flow's end.
for s in small large; do
	n=${count[$s]}
	t0=$(date +%s.%N)
	fill[$s]=$(bench_python gen_segments.py --url "$url" --flow "${flow[$s]}" --count "$n" \
		--dur "$DUR" --conns "$GEN_CONNS") || bench_die "fill ($s) failed"
	for k in 1 2; do
		bench_python gen_segments.py --url "$url" --flow "${flow[$s]}" --no-create \
			--first $((n + k * HOLE + (k - 1) * 3)) --count 3 --dur "$DUR" --conns 1 >/dev/null ||
			bench_die "gap fill ($s) failed"
	done
	t1=$(date +%s.%N)
	summary=$(curl -sf "$url/analytics/flows/${flow[$s]}") || bench_die "summary ($s) failed"
	gaps=$(curl -sf "$url/analytics/flows/${flow[$s]}/gaps" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') ||
		bench_die "gaps ($s) failed"
	segs=$(bench_json_get "$summary" segment_count)
	[[ $segs == $((n + 6)) && $gaps == 2 ]] ||
		bench_die "flow $s: $segs segments and $gaps gaps, expected $((n + 6)) and 2"
	echo "# fill $s: $((n + 6)) segments in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; $summary"
done
echo "# data dir $(du -sh "$BENCH_TMP/analytics/data" | cut -f1)"

declare -A path
path[sum_small]=/analytics/flows/${flow[small]}
path[sum_large]=/analytics/flows/${flow[large]}
path[gaps_small]="/analytics/flows/${flow[small]}/gaps?limit=100"
path[gaps_large]="/analytics/flows/${flow[large]}/gaps?limit=100"
path[service]=/analytics
names=(sum_small sum_large gaps_small gaps_large service)

for n in "${names[@]}"; do
	BENCH_DURATION=1s bench_wrk "$url${path[$n]}" >/dev/null || bench_die "warm-up ($n)"
done
declare -A rps p50 p99
errors=0
echo
echo "## wrk -t1 -c1 -d$DURATION --latency, interleaved"
printf '%-6s %-11s %12s %9s %9s %7s\n' round what req/s p50_ms p99_ms errors
for ((r = 1; r <= ROUNDS; r++)); do
	for n in "${names[@]}"; do
		read -r a b c e < <(bench_wrk "$url${path[$n]}") || bench_die "wrk failed ($n, round $r)"
		[[ -n ${a:-} ]] || bench_die "wrk failed ($n, round $r)"
		printf '%-6s %-11s %12s %9s %9s %7s\n' "$r" "$n" "$a" "$b" "$c" "$e"
		rps[$n]+=" $a" p50[$n]+=" $b" p99[$n]+=" $c"
		errors=$((errors + e))
	done
done
declare -A mrps mp50
echo
echo "## medians"
for n in "${names[@]}"; do
	# shellcheck disable=SC2086
	mrps[$n]=$(bench_median ${rps[$n]}) mp50[$n]=$(bench_median ${p50[$n]})
	printf '%-11s req/s %10s  p50 %8s ms\n' "$n" "${mrps[$n]}" "${mp50[$n]}"
done
ratio_sum=$(bench_ratio "${mp50[sum_large]}" "${mp50[sum_small]}")
ratio_gaps=$(bench_ratio "${mp50[gaps_large]}" "${mp50[gaps_small]}")
echo "p50 large/small: summary $ratio_sum, gaps $ratio_gaps ($LARGE vs $SMALL segments); errors $errors"

{
	printf '{"started":%s,"machine":%s,"small":%s,"large":%s,"rounds":%s,"duration":%s,' \
		"$(bench_json_str "$started")" "$(bench_json_str "$machine")" "$SMALL" "$LARGE" \
		"$ROUNDS" "$(bench_json_str "$DURATION")"
	printf '"fill_small":%s,"fill_large":%s,"errors":%s,' "${fill[small]}" "${fill[large]}" "$errors"
	for n in "${names[@]}"; do
		# shellcheck disable=SC2086
		printf '"%s":{"rps":%s,"p50_ms":%s},' "$n" "$(bench_json_array ${rps[$n]})" \
			"$(bench_json_array ${p50[$n]})"
	done
	printf '"p50_ratio_summary":%s,"p50_ratio_gaps":%s}\n' "$ratio_sum" "$ratio_gaps"
} >"$OUT_JSON"
echo "# wrote $OUT_JSON"
((errors == 0)) || bench_die "$errors failed requests"
