#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Latency of valid API-token requests while a flood of wrong passwords runs (issue 14, F10):
# PBKDF2 runs on its own threads from a bounded queue, so token requests should barely notice.
#
# Env: ROUNDS (3), DURATION (5s, per measurement), FLOOD (8 connections sending wrong
# passwords), THREADS (nproc; tamsd --threads), FAIL_LIMIT (0: throttling off, so every wrong
# password reaches the hashing queue, as from many addresses), TAMSD_ARGS (extra tamsd flags),
# BENCH_NO_BUILD=1, AUTH_FLOOD_JSON (output path).
# Output: a table on stdout (quiet and flooded p50/p99 of GET /flows with a token, one
# connection), JSON lines in bench/out/auth_flood.json.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
FLOOD=${FLOOD:-8}
THREADS=${THREADS:-$(nproc)}
FAIL_LIMIT=${FAIL_LIMIT:-0}
TAMSD_ARGS=${TAMSD_ARGS:-}
OUT_JSON=${AUTH_FLOOD_JSON:-$BENCH_OUT/auth_flood.json}

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || bench_die "ROUNDS must be a positive integer"
[[ $FLOOD =~ ^[1-9][0-9]*$ ]] || bench_die "FLOOD must be a positive integer"
command -v wrk >/dev/null || bench_die "wrk not installed (apt-get install -y wrk)"

bench_init
bench_build_tamsd

data=$BENCH_TMP/tamsd/data
mkdir -p "$data"
printf 'right-password-1\n' | "$BENCH_TAMSD" user add alice --scopes read --data-dir "$data" \
	>/dev/null || bench_die "tamsd user add failed"
token=$("$BENCH_TAMSD" token create --name bench --scopes read --data-dir "$data" | tail -n 1)
[[ -n $token ]] || bench_die "tamsd token create printed no token"
wrong=$(printf 'alice:wrong-password' | base64)

# shellcheck disable=SC2086 # TAMSD_ARGS is a word list on purpose
bench_start_tamsd tamsd "$THREADS" --auth-fail-limit "$FAIL_LIMIT" $TAMSD_ARGS ||
	bench_die "tamsd failed to start"
curl -sf -o /dev/null -H "Authorization: Bearer $token" "$TAMSD_URL/flows" ||
	bench_die "GET /flows with the token failed"

machine=$(bench_machine)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "# GET /flows with an API token under a wrong-password flood, $started"
echo "# machine: $machine"
echo "# THREADS=$THREADS; token: wrk -t1 -c1 -d$DURATION --latency; flood: wrk -t1" \
	"-c$FLOOD, Basic alice:wrong-password; --auth-fail-limit $FAIL_LIMIT${TAMSD_ARGS:+ $TAMSD_ARGS}"

tok() { BENCH_CONNECTIONS=1 BENCH_DURATION=$DURATION bench_wrk "$TAMSD_URL/flows" \
	-H "Authorization: Bearer $token"; }
tok >/dev/null || bench_die "wrk warm-up failed"

flood_raw=$BENCH_TMP/flood.last
declare -A p50 p99
p50[quiet]='' p99[quiet]='' p50[flood]='' p99[flood]=''
flood_rps=''
printf '%-6s %-6s %9s %9s %9s %12s\n' round phase req/s p50_ms p99_ms flood_req/s
for ((r = 1; r <= ROUNDS; r++)); do
	read -r a b c _ < <(tok) || bench_die "wrk failed (quiet, round $r)"
	[[ -n ${a:-} ]] || bench_die "wrk failed (quiet, round $r)"
	printf '%-6s %-6s %9s %9s %9s %12s\n' "$r" quiet "$a" "$b" "$c" -
	p50[quiet]+=" $b" p99[quiet]+=" $c"
	# The flood runs one second before and one after the measurement.
	secs=${DURATION%s}
	wrk --latency -t1 -c"$FLOOD" -d"$((secs + 2))s" --timeout 30s \
		-H "Authorization: Basic $wrong" \
		"$TAMSD_URL/flows" >"$flood_raw" 2>&1 &
	flood_pid=$!
	sleep 1
	read -r a b c e < <(tok) || bench_die "wrk failed (flood, round $r)"
	wait "$flood_pid" || bench_die "the flood's wrk failed: $(cat "$flood_raw")"
	f=$(awk '/^Requests\/sec:/ { print $2 }' "$flood_raw")
	((e == 0)) || bench_die "$e token requests failed under the flood"
	printf '%-6s %-6s %9s %9s %9s %12s\n' "$r" flood "$a" "$b" "$c" "$f"
	p50[flood]+=" $b" p99[flood]+=" $c"
	flood_rps+=" $f"
done
kill -0 "$TAMSD_PID" 2>/dev/null || bench_die "tamsd died during the run"
throttled=$(curl -sf -H "Authorization: Bearer $token" "$TAMSD_URL/metrics" |
	awk '/^tams_auth_throttled_total\{reason="hash_queue"\}/ { print $2 }')

echo
printf '%-6s %9s %9s\n' phase p50_ms p99_ms
declare -A m50 m99
for phase in quiet flood; do
	# shellcheck disable=SC2086
	m50[$phase]=$(bench_median ${p50[$phase]})
	# shellcheck disable=SC2086
	m99[$phase]=$(bench_median ${p99[$phase]})
	printf '%-6s %9s %9s\n' "$phase" "${m50[$phase]}" "${m99[$phase]}"
done
# shellcheck disable=SC2086
echo "flood: median $(bench_median $flood_rps) req/s (401, or 429 past the hashing queue:" \
	"$throttled refused as hash_queue)"

{
	common="\"bench\":\"auth_flood\",\"time\":\"$started\",\"threads\":$THREADS"
	common+=",\"rounds\":$ROUNDS,\"duration\":$(bench_json_str "$DURATION"),\"flood\":$FLOOD"
	common+=",\"fail_limit\":$FAIL_LIMIT,\"tamsd_args\":$(bench_json_str "$TAMSD_ARGS")"
	for phase in quiet flood; do
		# shellcheck disable=SC2086
		printf '{%s,"phase":"%s","p50_ms":%s,"p99_ms":%s,"p50s_ms":%s,"p99s_ms":%s}\n' \
			"$common" "$phase" "${m50[$phase]}" "${m99[$phase]}" \
			"$(bench_json_array ${p50[$phase]})" "$(bench_json_array ${p99[$phase]})"
	done
	# shellcheck disable=SC2086
	printf '{%s,"flood_rps":%s,"hash_queue_throttled":%s,"machine":%s}\n' "$common" \
		"$(bench_json_array $flood_rps)" "${throttled:-null}" "$(bench_json_str "$machine")"
} >"$OUT_JSON"
echo "# wrote $OUT_JSON"
