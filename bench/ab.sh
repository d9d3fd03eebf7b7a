#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ab.sh - two tamsd binaries side by side on the store's hot paths, alternating round by round,
# so the ratio between them holds on a shared machine whose speed drifts.
#
#   A=path/to/old/tamsd B=path/to/new/tamsd bench/ab.sh
#
# Per round and binary, on an empty data dir (SQLite, or DATABASE=postgresql://... with a
# fresh schema each time): fill one flow with FILL segments (one object reused; POST arrays of
# 1,000 over 4 connections), register BULK fresh segments (an allocated, uploaded object each),
# then wrk for DURATION on GET /flows/{id}/segments with a 10 s window (one connection, then
# 32) and on GET /flows?limit=100 (32 connections). Besides rates it reports tamsd's CPU time
# (utime + stime from /proc) per segment of the fill (nothing but registration) and per request
# answered, which a busy machine disturbs much less than wall time. Prints one line per round and binary and the
# medians; writes bench/out/ab.json.
#
# Environment: A, B (binaries, required), ROUNDS (3), FILL (300000), BULK (60000),
# DURATION (5s), DATABASE ("" = SQLite).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[[ -x ${A:-} && -x ${B:-} ]] || bench_die "set A and B to two tamsd binaries"
ROUNDS=${ROUNDS:-3}
FILL=${FILL:-300000}
BULK=${BULK:-60000}
DURATION=${DURATION:-5s}
DATABASE=${DATABASE:-}
GEN=$BENCH_ROOT/bench/gen_segments.py
bench_init

# One Lua script for the segment windows: a random whole second inside the filled flow.
lua=$BENCH_TMP/window.lua
cat >"$lua" <<EOF
math.randomseed(os.time())
request = function()
  local s = math.random(0, $((FILL * 2 - 12)))
  return wrk.format("GET", "/flows/$(printf '%08x' 1)-0000-4000-8000-000000000001/segments?timerange=%5B" .. s .. ":0_" .. (s + 10) .. ":0)&limit=100")
end
EOF
flow=00000001-0000-4000-8000-000000000001

# cpu_us PID: CPU time the process has used so far, in microseconds.
cpu_us() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%d\n", ($14 + $15) * 1000000 / hz }' "/proc/$1/stat"
}

# load PID ARGS...: wrk ARGS against PID's tamsd; prints "req/s cpu-us-per-request".
load() {
	local pid=$1 c0 out n
	shift
	c0=$(cpu_us "$pid")
	out=$(wrk "$@")
	n=$(awk '/requests in/ {print $1}' <<<"$out")
	echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(( ($(cpu_us "$pid") - c0) / (n > 0 ? n : 1) ))"
}

# run NAME BINARY: one round of one binary; prints "fill seg/s, its CPU us/segment, fresh
# seg/s, then req/s and CPU us/request of the window at c1, at c32, and of the flows listing".
run() {
	local name=$1 bin=$2 args=() out fill bulk c0 cpu w1 w32 fl
	if [[ -n $DATABASE ]]; then
		local schema=ab_${name}_$RANDOM
		psql "$DATABASE" -qAt -c "CREATE SCHEMA $schema" >/dev/null
		args=(--database "$DATABASE?options=-csearch_path%3D$schema")
	fi
	BENCH_TAMSD=$bin bench_start_tamsd "$name" 2 "${args[@]}" || bench_die "$name did not start"
	c0=$(cpu_us "$TAMSD_PID")
	out=$(python3 "$GEN" --url "$TAMSD_URL" --flow "$flow" --count "$FILL")
	cpu=$(awk -v d=$(($(cpu_us "$TAMSD_PID") - c0)) -v n="$FILL" 'BEGIN { printf "%.2f", d / n }')
	fill=$(bench_json_get "$out" segments_per_s)
	out=$(python3 "$GEN" --url "$TAMSD_URL" --flow "$flow" --mode fresh --first "$FILL" \
		--no-create --count "$BULK")
	bulk=$(bench_json_get "$out" segments_per_s)
	w1=$(load "$TAMSD_PID" -t1 -c1 -d"$DURATION" -s "$lua" "$TAMSD_URL")
	w32=$(load "$TAMSD_PID" -t1 -c32 -d"$DURATION" -s "$lua" "$TAMSD_URL")
	fl=$(load "$TAMSD_PID" -t1 -c32 -d"$DURATION" "$TAMSD_URL/flows?limit=100")
	bench_stop "$TAMSD_PID"
	echo "$fill $cpu $bulk $w1 $w32 $fl"
}

declare -A col
for ((r = 1; r <= ROUNDS; r++)); do
	for which in A B; do
		bin=${!which}
		read -r fill cpu bulk w1 w1cpu w32 w32cpu fl flcpu < <(run "$which$r" "$bin")
		printf 'round %d %s: fill %s segments/s (%s us CPU/segment), fresh %s segments/s,' \
			"$r" "$which" "$fill" "$cpu" "$bulk"
		printf ' window c1 %s req/s' "$w1"
		printf ' (%s us/req), c32 %s (%s us/req), flows c32 %s (%s us/req)\n' \
			"$w1cpu" "$w32" "$w32cpu" "$fl" "$flcpu"
		for k in fill cpu bulk w1 w1cpu w32 w32cpu fl flcpu; do
			col[$which.$k]+="${!k} "
		done
	done
done
{
	printf '{"rounds": %d, "fill": %d, "bulk": %d, "database": "%s"' "$ROUNDS" "$FILL" "$BULK" \
		"${DATABASE:+postgresql}"
	for which in A B; do
		for k in fill cpu bulk w1 w1cpu w32 w32cpu fl flcpu; do
			# shellcheck disable=SC2086
			printf ', "%s_%s": %s' "$which" "$k" "$(bench_median ${col[$which.$k]})"
		done
	done
	echo '}'
} | tee "$BENCH_OUT/ab.json"
