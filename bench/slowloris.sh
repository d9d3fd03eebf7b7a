#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Slow connections against tamsd: up to CONNS hostile connections trickle request heads a byte a
# second (MODE=trickle) or send half a head and shut their side (MODE=halfclose), re-opening
# whatever the server closes, while a client at another address (127.0.0.2) probes GET /flows
# on fresh connections. Prints the probes' p50/p99, tamsd's peak RSS and open files, the
# server's connection counters, and the machine's listen-queue overflows during the attack.
#
# Env: CONNS (10000), MODE (both: trickle then halfclose; or one of them), SOURCES (127.0.0.1;
# comma-separated hostile source addresses), RATE (2000: hostile connects per second at most),
# INTERVAL (1: seconds between trickled bytes), RAMP (20: seconds of attack before probing),
# PROBES (200), PROBE_RATE (10 per second), THREADS (nproc), PIN=1 (tamsd on core 0, attacker
# and probe on core 1), TAMSD_ARGS (extra tamsd flags), BENCH_TAMSD / BENCH_NO_BUILD=1 (another
# binary, e.g. an older build: the script passes no flag it does not know), SLOWLORIS_JSON.
# Raises its own limit on open files (ulimit -n) to CONNS + 4096.
# Output: one summary per mode on stdout, JSON lines in bench/out/slowloris.json.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

CONNS=${CONNS:-10000}
MODE=${MODE:-both}
SOURCES=${SOURCES:-127.0.0.1}
RATE=${RATE:-2000}
INTERVAL=${INTERVAL:-1}
RAMP=${RAMP:-20}
PROBES=${PROBES:-200}
PROBE_RATE=${PROBE_RATE:-10}
THREADS=${THREADS:-$(nproc)}
PIN=${PIN:-0}
TAMSD_ARGS=${TAMSD_ARGS:-}
OUT_JSON=${SLOWLORIS_JSON:-$BENCH_OUT/slowloris.json}
PROBE_SOURCE=127.0.0.2

[[ $CONNS =~ ^[1-9][0-9]*$ ]] || bench_die "CONNS must be a positive integer"
case $MODE in
both) modes=(trickle halfclose) ;;
trickle | halfclose) modes=("$MODE") ;;
*) bench_die "MODE must be trickle, halfclose or both" ;;
esac
want_files=$((CONNS + 4096))
if (($(ulimit -n) < want_files)); then
	ulimit -n "$want_files" 2>/dev/null ||
		bench_die "cannot raise the open-file limit to $want_files (ulimit -Hn is $(ulimit -Hn))"
fi
python3 -c "import socket; s = socket.socket(); s.bind(('$PROBE_SOURCE', 0))" ||
	bench_die "cannot bind $PROBE_SOURCE (the probe's address)"

bench_init
bench_pin_layout "$PIN"
bench_build_tamsd
tool=$BENCH_ROOT/bench/slowloris.py

# sample PID OUT: every 0.5 s, "VmRSS_kB open_files" of PID to OUT, until PID ends.
sample() {
	local pid=$1 out=$2 rss files
	while kill -0 "$pid" 2>/dev/null; do
		rss=$(bench_rss_kb "$pid" 2>/dev/null) || break
		files=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		echo "$rss $files" >>"$out"
		sleep 0.5
	done
}

# listen_overflows: the kernel's count of connections dropped at a full listen queue, for the
# whole machine (another process's listener counts too).
listen_overflows() {
	awk '$1 == "TcpExt:" && !n { for (i = 2; i <= NF; i++) h[i] = $i; n = 1; next }
		$1 == "TcpExt:" { for (i = 2; i <= NF; i++) if (h[i] == "ListenOverflows") print $i }' \
		/proc/net/netstat
}

# metric NAME TEXT: the value of one series in Prometheus text (empty when absent).
metric() {
	awk -v n="$1" '$1 == n { print $2 }' <<<"$2"
}

machine=$(bench_machine)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "# slow connections, $started"
echo "# machine: $machine"
echo "# layout: $BENCH_LAYOUT; THREADS=$THREADS; CONNS=$CONNS from $SOURCES, RATE=$RATE/s," \
	"INTERVAL=${INTERVAL}s, RAMP=${RAMP}s; $PROBES probes at $PROBE_RATE/s from $PROBE_SOURCE;" \
	"tamsd ${TAMSD_ARGS:-(defaults)}"

for mode in "${modes[@]}"; do
	# shellcheck disable=SC2086 # TAMSD_ARGS is a word list on purpose
	bench_start_tamsd "slow-$mode" "$THREADS" $TAMSD_ARGS || bench_die "tamsd failed to start"
	quiet=$(bench_taskset "$BENCH_CLIENT_CPUS" python3 "$tool" probe --port "$TAMSD_PORT" \
		--count 50 --per-second 20) || bench_die "probe failed"
	samples=$BENCH_TMP/samples.$mode
	: >"$samples"
	overflows_before=$(listen_overflows)
	(bench_taskset "$BENCH_CLIENT_CPUS" python3 "$tool" attack --port "$TAMSD_PORT" \
		--conns "$CONNS" --sources "$SOURCES" --mode "$mode" --interval "$INTERVAL" \
		--rate "$RATE") >"$BENCH_TMP/attack.$mode" &
	attacker=$!
	BENCH_PIDS+=("$attacker")
	sample "$TAMSD_PID" "$samples" &
	sampler=$!
	BENCH_PIDS+=("$sampler")
	sleep "$RAMP"
	probed=$(bench_taskset "$BENCH_CLIENT_CPUS" python3 "$tool" probe --port "$TAMSD_PORT" \
		--count "$PROBES" --per-second "$PROBE_RATE") || bench_die "probe failed"
	overflows=$(($(listen_overflows) - overflows_before))
	kill -TERM "$attacker"
	wait "$attacker" || true
	kill -TERM "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	attack=$(cat "$BENCH_TMP/attack.$mode")
	text=$(curl -s --interface "$PROBE_SOURCE" "$TAMSD_URL/metrics") || text=
	peak_rss=$(awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }' "$samples")
	peak_files=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$samples")
	alive=1
	kill -0 "$TAMSD_PID" 2>/dev/null || alive=0
	p50=$(bench_json_get "$probed" p50_ms)
	p99=$(bench_json_get "$probed" p99_ms)
	ok=$(bench_json_get "$probed" ok)
	echo "== $mode: probes ok $ok/$PROBES, p50 ${p50} ms, p99 ${p99} ms (quiet: p50" \
		"$(bench_json_get "$quiet" p50_ms) ms, p99 $(bench_json_get "$quiet" p99_ms) ms);" \
		"tamsd peak RSS $((peak_rss / 1024)) MiB, peak open files $peak_files; alive $alive"
	echo "   probes over 100 ms: $(bench_json_get "$probed" over_100ms), over 900 ms (a SYN" \
		"retried): $(bench_json_get "$probed" over_900ms); listen-queue overflows on the" \
		"machine during the attack: $overflows"
	echo "   attacker: $attack"
	echo "   refused per address $(metric 'tams_http_connections_refused_total{reason="max_connections_per_address"}' "$text")," \
		"refused over all $(metric 'tams_http_connections_refused_total{reason="max_connections"}' "$text")," \
		"closed at the header deadline $(metric 'tams_http_connections_closed_total{reason="header_timeout"}' "$text")," \
		"half-closed reaped $(metric 'tams_http_connections_closed_total{reason="half_closed"}' "$text")"
	verdict=$(bench_verdict "${p99:-1e9}" le 100)
	echo "   legitimate p99 <= 100 ms: $verdict"
	printf '{"started":"%s","mode":"%s","conns":%s,"sources":%s,"rate":%s,"interval":%s,"ramp":%s,"machine":%s,"layout":%s,"tamsd_args":%s,"quiet":%s,"probe":%s,"attack":%s,"peak_rss_kb":%s,"peak_open_files":%s,"listen_overflows":%s,"alive":%s,"p99_verdict":"%s"}\n' \
		"$started" "$mode" "$CONNS" "$(bench_json_str "$SOURCES")" "$RATE" "$INTERVAL" "$RAMP" \
		"$(bench_json_str "$machine")" "$(bench_json_str "$BENCH_LAYOUT")" \
		"$(bench_json_str "$TAMSD_ARGS")" "$quiet" "$probed" "$attack" "$peak_rss" \
		"$peak_files" "$overflows" "$alive" "$verdict" >>"$OUT_JSON"
	bench_stop "$TAMSD_PID"
done
