#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cache.sh - the flow document cache on the real server: hit ratios, and throughput when every
# read is a hit.
#
#   bench/cache.sh                    # hit ratios of this build
#   A=old/tamsd bench/cache.sh        # and the 100%-hit throughput of A against this build
#
# Part 1: one tamsd (default cache settings unless TAMSD_ARGS says otherwise) with FLOWS flows
# (gen_flows.py); wrk reads GET /flows/{id} with ids drawn (a) uniformly from the first UNIFORM
# flows, a set that fits the default budget, and (b) by Zipf(1.0) popularity over all FLOWS
# flows (rank = creation order). Each pattern runs WARM seconds, then DURATION seconds whose
# hit ratio is read from /metrics (tams_flow_cache_requests_total) before and after.
# Part 2 (with A set): A and this build alternate ROUNDS times on a store of 100 flows read
# uniformly (every read a hit after the first), -c32, median req/s of each.
# Writes bench/out/cache.json.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

FLOWS=${FLOWS:-100000}
UNIFORM=${UNIFORM:-20000}
WARM=${WARM:-10}
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-5}
read -r -a TAMSD_EXTRA <<<"${TAMSD_ARGS:-}"
bench_init
bench_build_tamsd
B=$BENCH_TAMSD

# lua FILE N KIND: a wrk script reading ids from FILE, drawing among the first N by KIND
# (uniform or zipf).
lua() {
	cat >"$BENCH_TMP/read.lua" <<EOF
local ids, n, kind = {}, $2, "$3"
for line in io.lines("$1") do ids[#ids + 1] = line; if #ids == n then break end end
local cdf = {}
if kind == "zipf" then
  local sum = 0
  for i = 1, n do sum = sum + 1 / i; cdf[i] = sum end
  for i = 1, n do cdf[i] = cdf[i] / sum end
end
math.randomseed(os.time())
local function pick()
  if kind == "uniform" then return math.random(n) end
  local u, lo, hi = math.random(), 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end
request = function() return wrk.format("GET", "/flows/" .. ids[pick()]) end
EOF
	echo "$BENCH_TMP/read.lua"
}

# counts URL: "hits misses" of the flow cache.
counts() {
	curl -s "$1/metrics" | awk '/^tams_flow_cache_requests_total\{result="hit"\}/ {h = $2}
		/^tams_flow_cache_requests_total\{result="miss"\}/ {m = $2} END {print h, m}'
}

# ratio URL SCRIPT: hit ratio over DURATION s after WARM s of the same load.
ratio() {
	local h0 m0 h1 m1
	wrk -t1 -c8 -d"${WARM}s" -s "$2" "$1" >/dev/null
	read -r h0 m0 < <(counts "$1")
	wrk -t1 -c8 -d"${DURATION}s" -s "$2" "$1" >/dev/null
	read -r h1 m1 < <(counts "$1")
	awk -v h=$((h1 - h0)) -v m=$((m1 - m0)) 'BEGIN { printf "%.4f", h / (h + m) }'
}

bench_log "part 1: $FLOWS flows"
bench_start_tamsd ratios 2 "${TAMSD_EXTRA[@]}" || bench_die "tamsd did not start"
ids=$BENCH_TMP/ids.txt
python3 "$BENCH_ROOT/bench/gen_flows.py" --url "$TAMSD_URL" --count "$FLOWS" --match 0 \
	--ids-out "$ids" >/dev/null
uniform=$(ratio "$TAMSD_URL" "$(lua "$ids" "$UNIFORM" uniform)")
zipf=$(ratio "$TAMSD_URL" "$(lua "$ids" "$FLOWS" zipf)")
rss=$(bench_rss_kb "$TAMSD_PID")
bench_stop "$TAMSD_PID"
printf 'uniform over %d flows: hit ratio %s\nzipf(1.0) over %d flows: hit ratio %s\nVmRSS %s kB\n' \
	"$UNIFORM" "$uniform" "$FLOWS" "$zipf" "$rss"

a_med=null b_med=null
if [[ -n ${A:-} ]]; then
	[[ -x $A ]] || bench_die "A=$A is not an executable"
	bench_log "part 2: 100% hits, $A against this build"
	a_rps=() b_rps=()
	for ((r = 1; r <= ROUNDS; r++)); do
		for which in A B; do
			bin=$A
			[[ $which == B ]] && bin=$B
			BENCH_TAMSD=$bin bench_start_tamsd "hot$which$r" 2 || bench_die "$which did not start"
			python3 "$BENCH_ROOT/bench/gen_flows.py" --url "$TAMSD_URL" --count 100 --match 0 \
				--ids-out "$BENCH_TMP/hot.txt" >/dev/null
			script=$(lua "$BENCH_TMP/hot.txt" 100 uniform)
			wrk -t1 -c32 -d2s -s "$script" "$TAMSD_URL" >/dev/null
			rps=$(wrk -t1 -c32 -d"${DURATION}s" -s "$script" "$TAMSD_URL" |
				awk '/Requests\/sec/ {print $2}')
			bench_stop "$TAMSD_PID"
			printf 'round %d %s: %s req/s\n' "$r" "$which" "$rps"
			if [[ $which == A ]]; then a_rps+=("$rps"); else b_rps+=("$rps"); fi
		done
	done
	a_med=$(bench_median "${a_rps[@]}")
	b_med=$(bench_median "${b_rps[@]}")
	printf 'median req/s at 100%% hits: A %s, this build %s, ratio %s\n' "$a_med" "$b_med" \
		"$(bench_ratio "$b_med" "$a_med")"
fi
printf '{"flows": %d, "uniform_set": %d, "uniform_hit_ratio": %s, "zipf_hit_ratio": %s, "rss_kb": %s, "hot_rps_a": %s, "hot_rps_b": %s, "load": "%s"}\n' \
	"$FLOWS" "$UNIFORM" "$uniform" "$zipf" "$rss" "$a_med" "$b_med" "$(cut -d' ' -f1-3 /proc/loadavg)" |
	tee "$BENCH_OUT/cache.json"
