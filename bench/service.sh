#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# GET /service throughput and latency: tamsd against nginx returning the same body, interleaved.
#
# Env: ROUNDS (5), DURATION (5s), CONNECTIONS (32), WRK_THREADS (1), THREADS (nproc; tamsd
# --threads and nginx worker_processes), PIN=1 (servers on core 0, wrk on core 1),
# BENCH_NO_BUILD=1 (use build-bench/tamsd as is), TAMSD_ARGS (extra tamsd flags),
# SERVICE_JSON (output path).
# Output: a table on stdout, JSON lines in bench/out/service.json.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-1}
THREADS=${THREADS:-$(nproc)}
PIN=${PIN:-0}
TAMSD_ARGS=${TAMSD_ARGS:-}
OUT_JSON=${SERVICE_JSON:-$BENCH_OUT/service.json}

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || bench_die "ROUNDS must be a positive integer"
[[ $THREADS =~ ^[1-9][0-9]*$ ]] || bench_die "THREADS must be a positive integer"
command -v wrk >/dev/null || bench_die "wrk not installed (apt-get install -y wrk)"

export BENCH_DURATION=$DURATION BENCH_CONNECTIONS=$CONNECTIONS BENCH_WRK_THREADS=$WRK_THREADS

bench_init
bench_pin_layout "$PIN"
layout=$BENCH_LAYOUT
bench_build_tamsd

# shellcheck disable=SC2086 # TAMSD_ARGS is a word list on purpose
bench_start_tamsd tamsd "$THREADS" $TAMSD_ARGS || bench_die "tamsd failed to start"
body=$(curl -sf "$TAMSD_URL/service") || bench_die "GET /service failed on tamsd"
[[ -n $body ]] || bench_die "GET /service returned an empty body"

bench_start_nginx nginx "$THREADS" "        location = /service {
            default_type application/json;
            return 200 $(bench_nginx_quote "$body");
        }" || bench_die "nginx failed to start"
nbody=$(curl -sf "$NGINX_URL/service") || bench_die "GET /service failed on nginx"
[[ $nbody == "$body" ]] || bench_die "nginx body differs from tamsd's: $nbody"

machine=$(bench_machine)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "# GET /service, $started"
echo "# machine: $machine"
echo "# layout: $layout; THREADS=$THREADS; wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency;" \
	"$ROUNDS rounds, interleaved nginx/tamsd; body ${#body} bytes;" \
	"tamsd --access-log false${TAMSD_ARGS:+, then TAMSD_ARGS: $TAMSD_ARGS}"

# Warm both up briefly so the first measured round is not a cold start.
BENCH_DURATION=1s bench_wrk "$NGINX_URL/service" >/dev/null || bench_die "wrk warm-up (nginx)"
BENCH_DURATION=1s bench_wrk "$TAMSD_URL/service" >/dev/null || bench_die "wrk warm-up (tamsd)"

declare -A rps p50 p99
for side in nginx tamsd; do rps[$side]='' p50[$side]='' p99[$side]=''; done
errors=0
printf '%-6s %-5s %12s %9s %9s %7s\n' round side req/s p50_ms p99_ms errors
for ((r = 1; r <= ROUNDS; r++)); do
	for side in nginx tamsd; do
		if [[ $side == nginx ]]; then url=$NGINX_URL/service; else url=$TAMSD_URL/service; fi
		read -r a b c e < <(bench_wrk "$url") || bench_die "wrk failed ($side, round $r)"
		[[ -n ${a:-} ]] || bench_die "wrk failed ($side, round $r)"
		printf '%-6s %-5s %12s %9s %9s %7s\n' "$r" "$side" "$a" "$b" "$c" "$e"
		rps[$side]+=" $a" p50[$side]+=" $b" p99[$side]+=" $c"
		errors=$((errors + e))
	done
done
kill -0 "$TAMSD_PID" 2>/dev/null || bench_die "tamsd died during the run"
kill -0 "$NGINX_PID" 2>/dev/null || bench_die "nginx died during the run"

declare -A mrps mp50 mp99
echo
printf '%-6s %12s %9s %9s\n' server median_rps p50_ms p99_ms
for side in nginx tamsd; do
	# shellcheck disable=SC2086
	mrps[$side]=$(bench_median ${rps[$side]})
	# shellcheck disable=SC2086
	mp50[$side]=$(bench_median ${p50[$side]})
	# shellcheck disable=SC2086
	mp99[$side]=$(bench_median ${p99[$side]})
	printf '%-6s %12.0f %9s %9s\n' "$side" "${mrps[$side]}" "${mp50[$side]}" "${mp99[$side]}"
done
ratio=$(bench_ratio "${mrps[tamsd]}" "${mrps[nginx]}")
target=0.8
verdict=$(awk -v r="$ratio" -v t="$target" 'BEGIN { print (r >= t) ? "meets" : "BELOW" }')
echo "ratio tamsd/nginx (median req/s): $ratio ($verdict target $target)"
if ((errors > 0)); then
	bench_log "warning: $errors non-2xx responses or socket errors during the run"
fi

{
	common="\"bench\":\"service\",\"time\":\"$started\",\"pin\":$PIN,\"threads\":$THREADS"
	common+=",\"rounds\":$ROUNDS,\"duration\":$(bench_json_str "$DURATION")"
	common+=",\"connections\":$CONNECTIONS,\"wrk_threads\":$WRK_THREADS"
	common+=",\"tamsd_args\":$(bench_json_str "$TAMSD_ARGS")"
	for side in nginx tamsd; do
		# shellcheck disable=SC2086
		printf '{%s,"server":"%s","median_rps":%s,"p50_ms":%s,"p99_ms":%s,"rps":%s,"p50s_ms":%s,"p99s_ms":%s}\n' \
			"$common" "$side" "${mrps[$side]}" "${mp50[$side]}" "${mp99[$side]}" \
			"$(bench_json_array ${rps[$side]})" "$(bench_json_array ${p50[$side]})" \
			"$(bench_json_array ${p99[$side]})"
	done
	printf '{%s,"ratio_rps":%s,"target":%s,"errors":%s,"machine":%s,"layout":%s}\n' \
		"$common" "$ratio" "$target" "$errors" "$(bench_json_str "$machine")" \
		"$(bench_json_str "$layout")"
} >"$OUT_JSON"
echo "# wrote $OUT_JSON"
