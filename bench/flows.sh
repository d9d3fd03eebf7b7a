#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Flows from the store (issue 3): GET /flows/{id} against nginx `return 200` with the same body,
# and GET /flows?limit=100 / GET /flows?tag.x=sel&limit=100 on a store of SMALL flows against one
# of LARGE flows (two tamsd instances, separate data dirs, measured interleaved).
#
# Env: SMALL (1000), LARGE (100000), MATCH (100 flows carry tag x=sel in both stores),
# ROUNDS (5), DURATION (5s), CONNECTIONS (32, throughput part), LAT_CONNECTIONS (1, latency
# part: one connection, so p50 is the latency of one request, not queueing), WRK_THREADS (1),
# THREADS (nproc), PIN=1, GEN_CONNS (8), PROFILE=1 (perf profile of the large store's tamsd
# during the first tamsd round of GET /flows/{id} and of the filter, 4 s each, to
# bench/out/flows-perf-{get,filter}.txt; those rounds are slowed by perf), BENCH_NO_BUILD=1,
# FLOWS_JSON.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SMALL=${SMALL:-1000}
LARGE=${LARGE:-100000}
MATCH=${MATCH:-100}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
LAT_CONNECTIONS=${LAT_CONNECTIONS:-1}
WRK_THREADS=${WRK_THREADS:-1}
THREADS=${THREADS:-$(nproc)}
PIN=${PIN:-0}
GEN_CONNS=${GEN_CONNS:-8}
OUT_JSON=${FLOWS_JSON:-$BENCH_OUT/flows.json}

for v in SMALL LARGE ROUNDS THREADS GEN_CONNS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
command -v wrk >/dev/null || bench_die "wrk not installed (apt-get install -y wrk)"
export BENCH_DURATION=$DURATION BENCH_WRK_THREADS=$WRK_THREADS

bench_init
bench_pin_layout "$PIN"
bench_build_tamsd
machine=$(bench_machine)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# Two stores, filled through the API.
bench_start_tamsd small "$THREADS" || bench_die "tamsd (small) failed to start"
S_URL=$TAMSD_URL S_PID=$TAMSD_PID
bench_start_tamsd large "$THREADS" || bench_die "tamsd (large) failed to start"
L_URL=$TAMSD_URL L_PID=$TAMSD_PID
gen_s=$(bench_python gen_flows.py --url "$S_URL" --count "$SMALL" --match "$MATCH" \
	--conns "$GEN_CONNS") || bench_die "gen_flows (small) failed"
gen_l=$(bench_python gen_flows.py --url "$L_URL" --count "$LARGE" --match "$MATCH" \
	--conns "$GEN_CONNS") || bench_die "gen_flows (large) failed"
echo "# GET /flows, $started"
echo "# machine: $machine"
echo "# layout: $BENCH_LAYOUT; THREADS=$THREADS; $ROUNDS rounds per side, interleaved"
echo "# fill small: $gen_s"
echo "# fill large: $gen_l"
fid=$(bench_json_get "$gen_l" sample_id)

# Sanity: the queries return what they should on both stores.
for u in "$S_URL" "$L_URL"; do
	n=$(curl -sf "$u/flows?limit=100" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') ||
		bench_die "GET /flows failed on $u"
	[[ $n == 100 ]] || bench_die "GET /flows?limit=100 gave $n flows on $u"
	n=$(curl -sf "$u/flows?tag.x=sel&limit=100" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') ||
		bench_die "GET /flows?tag.x=sel failed on $u"
	[[ $n == "$MATCH" ]] || bench_die "tag.x=sel gave $n flows on $u, expected $MATCH"
done

# ---- part 1: GET /flows/{id} (large store) vs nginx return 200 ----------------------------------
body=$(curl -sf "$L_URL/flows/$fid") || bench_die "GET /flows/$fid failed"
bench_start_nginx nginx "$THREADS" "        location = /flows/$fid {
            default_type application/json;
            return 200 $(bench_nginx_quote "$body");
        }" || bench_die "nginx failed to start"
nbody=$(curl -sf "$NGINX_URL/flows/$fid") || bench_die "GET on nginx failed"
[[ $nbody == "$body" ]] || bench_die "nginx body differs from tamsd's"

echo
echo "## GET /flows/{id}: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency; body ${#body} bytes"
export BENCH_CONNECTIONS=$CONNECTIONS
BENCH_DURATION=1s bench_wrk "$NGINX_URL/flows/$fid" >/dev/null || bench_die "warm-up (nginx)"
BENCH_DURATION=1s bench_wrk "$L_URL/flows/$fid" >/dev/null || bench_die "warm-up (tamsd)"
declare -A rps p50 p99
errors=0
printf '%-6s %-6s %12s %9s %9s %7s\n' round side req/s p50_ms p99_ms errors
for ((r = 1; r <= ROUNDS; r++)); do
	for side in nginx tamsd; do
		if [[ $side == nginx ]]; then url=$NGINX_URL/flows/$fid; else url=$L_URL/flows/$fid; fi
		if [[ $side == tamsd && $r == 1 ]]; then
			bench_profile "$L_PID" 4 "$BENCH_OUT/flows-perf-get.txt"
		fi
		read -r a b c e < <(bench_wrk "$url") || bench_die "wrk failed ($side, round $r)"
		[[ -n ${a:-} ]] || bench_die "wrk failed ($side, round $r)"
		bench_profile_end
		printf '%-6s %-6s %12s %9s %9s %7s\n' "$r" "$side" "$a" "$b" "$c" "$e"
		rps[$side]+=" $a" p50[$side]+=" $b" p99[$side]+=" $c"
		errors=$((errors + e))
	done
done
# shellcheck disable=SC2086
{
	g_nginx=$(bench_median ${rps[nginx]})
	g_tamsd=$(bench_median ${rps[tamsd]})
	g_nginx_p50=$(bench_median ${p50[nginx]})
	g_tamsd_p50=$(bench_median ${p50[tamsd]})
}
g_ratio=$(bench_ratio "$g_tamsd" "$g_nginx")
g_verdict=$(bench_verdict "$g_ratio" ge 0.6)
printf 'median req/s nginx %.0f (p50 %s ms), tamsd %.0f (p50 %s ms); ratio %s (%s target 0.6)\n' \
	"$g_nginx" "$g_nginx_p50" "$g_tamsd" "$g_tamsd_p50" "$g_ratio" "$g_verdict"
bench_stop "$NGINX_PID"

# ---- part 2: list and filter latency, SMALL vs LARGE -------------------------------------------
export BENCH_CONNECTIONS=$LAT_CONNECTIONS
declare -A q
q[list]="/flows?limit=100"
q[filter]="/flows?tag.x=sel&limit=100"
json_rows=()
for name in list filter; do
	echo
	echo "## GET ${q[$name]}: $SMALL vs $LARGE flows; wrk -t$WRK_THREADS -c$LAT_CONNECTIONS -d$DURATION --latency"
	BENCH_DURATION=1s bench_wrk "$S_URL${q[$name]}" >/dev/null || bench_die "warm-up (small)"
	BENCH_DURATION=1s bench_wrk "$L_URL${q[$name]}" >/dev/null || bench_die "warm-up (large)"
	unset rps p50 p99
	declare -A rps p50 p99
	printf '%-6s %-6s %12s %9s %9s %7s\n' round store req/s p50_ms p99_ms errors
	for ((r = 1; r <= ROUNDS; r++)); do
		for side in small large; do
			if [[ $side == small ]]; then url=$S_URL${q[$name]}; else url=$L_URL${q[$name]}; fi
			if [[ $side == large && $name == filter && $r == 1 ]]; then
				bench_profile "$L_PID" 4 "$BENCH_OUT/flows-perf-filter.txt"
			fi
			read -r a b c e < <(bench_wrk "$url") || bench_die "wrk failed ($name $side, round $r)"
			[[ -n ${a:-} ]] || bench_die "wrk failed ($name $side, round $r)"
			bench_profile_end
			printf '%-6s %-6s %12s %9s %9s %7s\n' "$r" "$side" "$a" "$b" "$c" "$e"
			rps[$side]+=" $a" p50[$side]+=" $b" p99[$side]+=" $c"
			errors=$((errors + e))
		done
	done
	# shellcheck disable=SC2086
	{
		ms=$(bench_median ${p50[small]})
		ml=$(bench_median ${p50[large]})
		rs=$(bench_median ${rps[small]})
		rl=$(bench_median ${rps[large]})
	}
	ratio=$(bench_ratio "$ml" "$ms")
	verdict=$(bench_verdict "$ratio" le 1.5)
	printf 'median p50 small %s ms (%.0f req/s), large %s ms (%.0f req/s); ratio large/small %s (%s target <= 1.5)\n' \
		"$ms" "$rs" "$ml" "$rl" "$ratio" "$verdict"
	# shellcheck disable=SC2086
	json_rows+=("$(printf '{"bench":"flows","time":"%s","query":%s,"small":%s,"large":%s,"p50_small_ms":%s,"p50_large_ms":%s,"rps_small":%s,"rps_large":%s,"p50s_small":%s,"p50s_large":%s,"ratio_p50":%s,"target":1.5,"connections":%s}' \
		"$started" "$(bench_json_str "${q[$name]}")" "$SMALL" "$LARGE" "$ms" "$ml" "$rs" "$rl" \
		"$(bench_json_array ${p50[small]})" "$(bench_json_array ${p50[large]})" "$ratio" "$LAT_CONNECTIONS")")
done
kill -0 "$S_PID" 2>/dev/null || bench_die "tamsd (small) died during the run"
kill -0 "$L_PID" 2>/dev/null || bench_die "tamsd (large) died during the run"
rss_s=$(bench_rss_kb "$S_PID") rss_l=$(bench_rss_kb "$L_PID")
echo
echo "VmRSS after the run: small store ${rss_s} kB, large store ${rss_l} kB"
((errors == 0)) || bench_log "warning: $errors non-2xx responses or socket errors during the run"

{
	printf '{"bench":"flows","time":"%s","part":"get_flow","pin":%s,"threads":%s,"rounds":%s,"duration":%s,"connections":%s,"body_bytes":%s,"median_rps_nginx":%s,"median_rps_tamsd":%s,"p50_nginx_ms":%s,"p50_tamsd_ms":%s,"ratio_rps":%s,"target":0.6}\n' \
		"$started" "$PIN" "$THREADS" "$ROUNDS" "$(bench_json_str "$DURATION")" "$CONNECTIONS" \
		"${#body}" "$g_nginx" "$g_tamsd" "$g_nginx_p50" "$g_tamsd_p50" "$g_ratio"
	printf '%s\n' "${json_rows[@]}"
	printf '{"bench":"flows","time":"%s","fill_small":%s,"fill_large":%s,"rss_kb_small":%s,"rss_kb_large":%s,"errors":%s,"machine":%s,"layout":%s}\n' \
		"$started" "$gen_s" "$gen_l" "$rss_s" "$rss_l" "$errors" "$(bench_json_str "$machine")" \
		"$(bench_json_str "$BENCH_LAYOUT")"
} >"$OUT_JSON"
echo "# wrote $OUT_JSON"
