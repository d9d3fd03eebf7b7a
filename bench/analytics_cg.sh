#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# analytics_cg.sh - the instructions segment registration costs, binary A against binary B,
# counted by callgrind (a busy machine does not move them). Per binary, on an empty SQLite data
# dir: a fill of PREFILL segments, then the counters zeroed and dumped around FILL more segments
# (POST arrays of 1,000, one reused object) and FRESH fresh segments (allocation, upload,
# registration). Prints the instruction count of each phase.
#
#   A=path/to/old/tamsd B=path/to/new/tamsd bench/analytics_cg.sh
#
# Env: A, B (required), PREFILL (5000), FILL (10000), FRESH (2000). Needs valgrind.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

[[ -x ${A:-} && -x ${B:-} ]] || bench_die "set A and B to two tamsd binaries"
command -v callgrind_control >/dev/null || bench_die "valgrind not installed"
PREFILL=${PREFILL:-5000}
FILL=${FILL:-10000}
FRESH=${FRESH:-2000}
GEN=$BENCH_ROOT/bench/gen_segments.py
FLOW=c0c0c0c0-0000-4000-8000-000000000001
bench_init

for name in A B; do
	bin=${!name}
	d=$BENCH_TMP/$name
	mkdir -p "$d/data"
	port=$(bench_free_port)
	valgrind --tool=callgrind --callgrind-out-file="$d/cg.%p" "$bin" --listen "127.0.0.1:$port" \
		--data-dir "$d/data" --threads 2 --access-log false >"$d/log" 2>&1 &
	vpid=$!
	BENCH_PIDS+=("$vpid")
	for _ in $(seq 1 300); do
		curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
		sleep 1
	done
	python3 "$GEN" --url "http://127.0.0.1:$port" --flow $FLOW --count "$PREFILL" --conns 1 >/dev/null
	callgrind_control -z "$vpid" >/dev/null
	python3 "$GEN" --url "http://127.0.0.1:$port" --flow $FLOW --no-create --first "$PREFILL" \
		--count "$FILL" --conns 1 >/dev/null
	callgrind_control -d fill "$vpid" >/dev/null
	callgrind_control -z "$vpid" >/dev/null
	python3 "$GEN" --url "http://127.0.0.1:$port" --flow $FLOW --no-create --mode fresh \
		--first $((PREFILL + FILL)) --count "$FRESH" --conns 1 >/dev/null
	callgrind_control -d fresh "$vpid" >/dev/null
	bench_stop "$vpid"
	for f in "$d"/cg.*.*; do
		echo "$name ($bin): $(grep -m1 '^desc: Trigger' "$f" | sed 's/desc: Trigger: dump //')" \
			"$(grep -m1 '^summary:' "$f")"
	done
done
