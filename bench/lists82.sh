#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TAMS 8.2 list orders (issue 19, entries 11, 12, 18): GET /tams/v8.2/sources and /flows sorted
# by each sort_by (a first page, and a page after a cursor), and collected_by_ids=, on a store
# of SMALL flows (and as many sources) against one of LARGE, measured interleaved as in
# bench/flows.sh part 2; the 7.0 listing by id is the baseline. Target: p50 large/small <= 1.5
# (the cost of a page does not grow with the store).
#
# Env: SMALL (1000), LARGE (100000), ROUNDS (5), DURATION (3s), LAT_CONNECTIONS (1),
# WRK_THREADS (1), THREADS (nproc), PIN (0), GEN_CONNS (8), BENCH_NO_BUILD=1, LISTS_JSON.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SMALL=${SMALL:-1000}
LARGE=${LARGE:-100000}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-3s}
LAT_CONNECTIONS=${LAT_CONNECTIONS:-1}
WRK_THREADS=${WRK_THREADS:-1}
THREADS=${THREADS:-$(nproc)}
PIN=${PIN:-0}
GEN_CONNS=${GEN_CONNS:-8}
OUT_JSON=${LISTS_JSON:-$BENCH_OUT/lists82.json}

for v in SMALL LARGE ROUNDS THREADS GEN_CONNS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
command -v wrk >/dev/null || bench_die "wrk not installed (apt-get install -y wrk)"
export BENCH_DURATION=$DURATION BENCH_WRK_THREADS=$WRK_THREADS BENCH_CONNECTIONS=$LAT_CONNECTIONS

bench_init
bench_pin_layout "$PIN"
bench_build_tamsd
machine=$(bench_machine)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

bench_start_tamsd small "$THREADS" || bench_die "tamsd (small) failed to start"
S_URL=$TAMSD_URL S_PID=$TAMSD_PID
bench_start_tamsd large "$THREADS" || bench_die "tamsd (large) failed to start"
L_URL=$TAMSD_URL L_PID=$TAMSD_PID
gen_s=$(bench_python gen_flows.py --url "$S_URL" --count "$SMALL" --match 10 \
	--conns "$GEN_CONNS") || bench_die "gen_flows (small) failed"
gen_l=$(bench_python gen_flows.py --url "$L_URL" --count "$LARGE" --match 10 \
	--conns "$GEN_CONNS") || bench_die "gen_flows (large) failed"
echo "# GET /tams/v8.2 listings, $started"
echo "# machine: $machine"
echo "# layout: $BENCH_LAYOUT; THREADS=$THREADS; $ROUNDS rounds per side, interleaved"
echo "# fill small: $gen_s"
echo "# fill large: $gen_l"

# The cursor of a first page: the page after it is measured ("after" queries).
next_key() {
	curl -sf -D - -o /dev/null "$1" | tr -d '\r' | sed -n 's/^[Xx]-[Pp]aging-[Nn]ext[Kk]ey: //p'
}

names=(v70_sources v82_sources_default sources_label sources_updated_rev sources_label_after
	flows_label flows_metadata_updated flows_created_rev flows_label_after sources_top_level)
declare -A q
q[v70_sources]="/sources?limit=100"
q[v82_sources_default]="/tams/v8.2/sources?limit=100"
q[sources_label]="/tams/v8.2/sources?sort_by=label&limit=100"
q[sources_updated_rev]="/tams/v8.2/sources?sort_by=updated&reverse_order=true&limit=100"
q[flows_label]="/tams/v8.2/flows?sort_by=label&limit=100"
q[flows_metadata_updated]="/tams/v8.2/flows?sort_by=metadata_updated&limit=100"
q[flows_created_rev]="/tams/v8.2/flows?sort_by=created&reverse_order=true&limit=100"
q[sources_top_level]="/tams/v8.2/sources?collected_by_ids=&limit=100"
declare -A qs ql
for name in "${names[@]}"; do
	case $name in
	*_after)
		base=${name%_after}
		k_s=$(next_key "$S_URL${q[$base]}") k_l=$(next_key "$L_URL${q[$base]}")
		[[ -n $k_s && -n $k_l ]] || bench_die "no next page for ${q[$base]}"
		qs[$name]="${q[$base]}&page=$k_s" ql[$name]="${q[$base]}&page=$k_l"
		q[$name]="${q[$base]}&page=<second page>"
		;;
	*) qs[$name]=${q[$name]} ql[$name]=${q[$name]} ;;
	esac
	for u in "$S_URL${qs[$name]}" "$L_URL${ql[$name]}"; do
		n=$(curl -sf "$u" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') ||
			bench_die "GET $u failed"
		[[ $n == 100 ]] || bench_die "GET $u gave $n items, not 100"
	done
done

json_rows=()
errors=0
echo
printf '%-24s %12s %12s %9s %9s %s\n' query p50_small p50_large ratio verdict path
for name in "${names[@]}"; do
	BENCH_DURATION=1s bench_wrk "$S_URL${qs[$name]}" >/dev/null || bench_die "warm-up (small)"
	BENCH_DURATION=1s bench_wrk "$L_URL${ql[$name]}" >/dev/null || bench_die "warm-up (large)"
	ps='' pl='' rs='' rl=''
	for ((r = 1; r <= ROUNDS; r++)); do
		read -r a b _ e < <(bench_wrk "$S_URL${qs[$name]}") || bench_die "wrk failed ($name small)"
		rs+=" $a" ps+=" $b" errors=$((errors + e))
		read -r a b _ e < <(bench_wrk "$L_URL${ql[$name]}") || bench_die "wrk failed ($name large)"
		rl+=" $a" pl+=" $b" errors=$((errors + e))
	done
	# shellcheck disable=SC2086
	{
		ms=$(bench_median $ps) ml=$(bench_median $pl)
		mrs=$(bench_median $rs) mrl=$(bench_median $rl)
	}
	ratio=$(bench_ratio "$ml" "$ms")
	verdict=$(bench_verdict "$ratio" le 1.5)
	printf '%-24s %12s %12s %9s %9s %s\n' "$name" "$ms" "$ml" "$ratio" "$verdict" "${q[$name]}"
	# shellcheck disable=SC2086
	json_rows+=("$(printf '{"bench":"lists82","time":"%s","query":%s,"small":%s,"large":%s,"p50_small_ms":%s,"p50_large_ms":%s,"rps_small":%s,"rps_large":%s,"p50s_small":%s,"p50s_large":%s,"ratio_p50":%s,"target":1.5}' \
		"$started" "$(bench_json_str "${q[$name]}")" "$SMALL" "$LARGE" "$ms" "$ml" "$mrs" "$mrl" \
		"$(bench_json_array $ps)" "$(bench_json_array $pl)" "$ratio")")
done
kill -0 "$S_PID" 2>/dev/null || bench_die "tamsd (small) died during the run"
kill -0 "$L_PID" 2>/dev/null || bench_die "tamsd (large) died during the run"
((errors == 0)) || bench_log "warning: $errors non-2xx responses or socket errors during the run"
{
	printf '%s\n' "${json_rows[@]}"
	printf '{"bench":"lists82","time":"%s","fill_small":%s,"fill_large":%s,"errors":%s,"machine":%s,"layout":%s}\n' \
		"$started" "$gen_s" "$gen_l" "$errors" "$(bench_json_str "$machine")" \
		"$(bench_json_str "$BENCH_LAYOUT")"
} >"$OUT_JSON"
echo "# wrote $OUT_JSON"
