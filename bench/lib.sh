# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the bench/*.sh load scripts: build and start tamsd, start nginx as a
# reference server, run wrk and parse it, medians, cleanup. Source it; do not execute it.
#
# Conventions
#   - Every server started here is recorded in BENCH_PIDS; bench_cleanup (installed as an EXIT
#     trap by bench_init) stops each by pid, then every PostgreSQL cluster started by
#     bench_start_pg (pg_ctl stop), and removes BENCH_TMP.
#   - BENCH_SERVER_CPUS / BENCH_CLIENT_CPUS, when non-empty, are taskset CPU lists for the
#     servers and for wrk (bench_pin_layout sets them from PIN=1).
#   - Functions return non-zero and print "bench: ..." on stderr on failure.
#   - Everything listens on and loads 127.0.0.1 only.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_BUILD_DIR=${BENCH_BUILD_DIR:-$BENCH_ROOT/build-bench}
BENCH_TAMSD=${BENCH_TAMSD:-$BENCH_BUILD_DIR/tamsd}
BENCH_OUT=${BENCH_OUT:-$BENCH_ROOT/bench/out}
BENCH_PIDS=()
BENCH_PG_DIRS=() # clusters started by bench_start_pg, stopped by bench_cleanup
BENCH_TMP=
BENCH_SERVER_CPUS=${BENCH_SERVER_CPUS:-}
BENCH_CLIENT_CPUS=${BENCH_CLIENT_CPUS:-}

bench_log() { printf 'bench: %s\n' "$*" >&2; }
bench_die() {
	bench_log "error: $*"
	exit 1
}

# bench_init: make BENCH_TMP and BENCH_OUT, install the cleanup trap.
bench_init() {
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tamsd-bench.XXXXXX") || bench_die "mktemp failed"
	mkdir -p "$BENCH_OUT" || bench_die "cannot create $BENCH_OUT"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# bench_cleanup: stop every recorded server (TERM, then KILL after 5 s), then every PostgreSQL
# cluster of bench_start_pg, and remove BENCH_TMP.
bench_cleanup() {
	local pid i d
	set +e # runs as the EXIT trap: must not stop half-way under the caller's set -e
	for pid in "${BENCH_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BENCH_PIDS[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	BENCH_PIDS=()
	# PostgreSQL after its clients (tamsd), so that a fast shutdown has nobody to wait for.
	for d in "${BENCH_PG_DIRS[@]}"; do
		bench_stop_pg "$d"
	done
	BENCH_PG_DIRS=()
	if [[ -n $BENCH_TMP && -d $BENCH_TMP ]]; then
		rm -rf -- "$BENCH_TMP"
	fi
}

# bench_pin_layout PIN: PIN=1 puts servers on core 0 and wrk on core 1; anything else unpinned.
# Sets BENCH_LAYOUT to a one-line description of the layout.
bench_pin_layout() {
	if [[ ${1:-0} == 1 ]]; then
		command -v taskset >/dev/null || bench_die "PIN=1 needs taskset"
		BENCH_SERVER_CPUS=0
		BENCH_CLIENT_CPUS=1
		BENCH_LAYOUT="pinned: servers on core 0, wrk on core 1 (taskset)"
	else
		BENCH_SERVER_CPUS=
		BENCH_CLIENT_CPUS=
		BENCH_LAYOUT="unpinned: servers and wrk share all $(nproc) cores"
	fi
}

# bench_taskset CPUS CMD...: run CMD under taskset -c CPUS, or plainly when CPUS is empty.
bench_taskset() {
	local cpus=$1
	shift
	if [[ -n $cpus ]]; then
		exec taskset -c "$cpus" "$@"
	else
		exec "$@"
	fi
}

# bench_build_tamsd: configure and build tamsd (Release) in BENCH_BUILD_DIR unless
# BENCH_NO_BUILD=1. cmake's own dependency tracking makes a rebuild cheap when nothing changed.
bench_build_tamsd() {
	if [[ ${BENCH_NO_BUILD:-0} == 1 ]]; then
		[[ -x $BENCH_TAMSD ]] || bench_die "BENCH_NO_BUILD=1 but $BENCH_TAMSD is missing"
		return 0
	fi
	local log=${BENCH_TMP:-/tmp}/build.log
	if [[ ! -f $BENCH_BUILD_DIR/CMakeCache.txt ]]; then
		cmake -S "$BENCH_ROOT" -B "$BENCH_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >"$log" 2>&1 || {
			cat "$log" >&2
			bench_die "cmake configure failed"
		}
	fi
	cmake --build "$BENCH_BUILD_DIR" -j2 --target tamsd >>"$log" 2>&1 || {
		cat "$log" >&2
		bench_die "build failed"
	}
	[[ -x $BENCH_TAMSD ]] || bench_die "build produced no $BENCH_TAMSD"
}

# bench_free_port: print a TCP port on 127.0.0.1 that was free a moment ago.
bench_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# bench_wait_http URL PID [TIMEOUT_S]: wait until URL answers (any HTTP status) while PID lives.
bench_wait_http() {
	local url=$1 pid=$2 timeout=${3:-15} i
	for ((i = 0; i < timeout * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		if curl -s -o /dev/null --max-time 1 "$url"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# bench_start_tamsd NAME THREADS [EXTRA_ARGS...]: start tamsd on a free 127.0.0.1 port with a
# fresh data dir under BENCH_TMP/NAME. Sets TAMSD_PID, TAMSD_PORT, TAMSD_URL, TAMSD_LOG.
# Access logging is off unless EXTRA_ARGS say otherwise (a later --access-log wins).
bench_start_tamsd() {
	local name=$1 threads=$2
	shift 2
	local dir=$BENCH_TMP/$name
	mkdir -p "$dir/data" || return 1
	TAMSD_PORT=$(bench_free_port) || return 1
	TAMSD_LOG=$dir/tamsd.log
	(bench_taskset "$BENCH_SERVER_CPUS" "$BENCH_TAMSD" \
		--listen "127.0.0.1:$TAMSD_PORT" --data-dir "$dir/data" --threads "$threads" \
		--access-log false --shutdown-timeout 2 "$@") >"$TAMSD_LOG" 2>&1 &
	TAMSD_PID=$!
	BENCH_PIDS+=("$TAMSD_PID")
	TAMSD_URL=http://127.0.0.1:$TAMSD_PORT
	if ! bench_wait_http "$TAMSD_URL/" "$TAMSD_PID"; then
		bench_log "tamsd did not start; log follows"
		cat "$TAMSD_LOG" >&2
		return 1
	fi
}

# bench_nginx_quote TEXT: print TEXT as an nginx single-quoted string. Backslash and quote are
# escaped; '$' becomes ${bench_dollar} (nginx has no escape for it; bench_start_nginx defines it
# with geo, whose values are not parsed for variables).
bench_nginx_quote() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\'/\\\'}
	s=${s//\$/\$\{bench_dollar\}}
	printf "'%s'" "$s"
}

# bench_start_nginx NAME WORKERS LOCATIONS [HTTP]: start nginx (daemon off, own prefix under
# BENCH_TMP/NAME, access_log off, keepalive on) on a free 127.0.0.1 port. LOCATIONS is the text
# of the server block's location directives, HTTP optional text for the http block before the
# server (e.g. an upstream). Sets NGINX_PID, NGINX_PORT, NGINX_URL, NGINX_LOG.
# keepalive_requests is raised so that, like tamsd, nginx never closes a busy keep-alive
# connection during a run.
bench_start_nginx() {
	local name=$1 workers=$2 locations=$3 http_extra=${4:-}
	local dir=$BENCH_TMP/$name
	command -v nginx >/dev/null || bench_die "nginx not installed (apt-get install -y nginx-light)"
	mkdir -p "$dir/logs" "$dir/tmp" || return 1
	NGINX_PORT=$(bench_free_port) || return 1
	NGINX_LOG=$dir/logs/error.log
	cat >"$dir/nginx.conf" <<EOF
worker_processes $workers;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $NGINX_LOG warn;
events {
    worker_connections 4096;
    multi_accept off;
}
http {
    access_log off;
    keepalive_timeout 65;
    keepalive_requests 10000000;
    server_tokens off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    geo \$bench_dollar { default "\$"; }
$http_extra
    server {
        listen 127.0.0.1:$NGINX_PORT;
$locations
    }
}
EOF
	if ! nginx -t -q -p "$dir" -e "$NGINX_LOG" -c "$dir/nginx.conf" 2>"$dir/test.log"; then
		bench_log "nginx config rejected:"
		cat "$dir/test.log" >&2
		return 1
	fi
	(bench_taskset "$BENCH_SERVER_CPUS" nginx -p "$dir" -e "$NGINX_LOG" -c "$dir/nginx.conf") \
		>"$dir/stdout.log" 2>&1 &
	NGINX_PID=$!
	BENCH_PIDS+=("$NGINX_PID")
	NGINX_URL=http://127.0.0.1:$NGINX_PORT
	if ! bench_wait_http "$NGINX_URL/" "$NGINX_PID"; then
		bench_log "nginx did not start; logs follow"
		cat "$dir/stdout.log" "$NGINX_LOG" >&2
		return 1
	fi
}

# bench_stop PID: stop one server started above and drop it from BENCH_PIDS.
bench_stop() {
	local pid=$1 p i keep=()
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${BENCH_PIDS[@]}"; do
		[[ $p == "$pid" ]] || keep+=("$p")
	done
	BENCH_PIDS=("${keep[@]}")
}

# bench_wrk_parse: read wrk --latency output on stdin, print "rps p50_ms p99_ms errors".
# errors counts non-2xx/3xx responses plus socket connect/read/write/timeout errors.
bench_wrk_parse() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
		if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
		if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
		return v + 0
	}
	/Latency Distribution/ { dist = 1; next }
	dist && $1 == "50%" { p50 = ms($2) }
	dist && $1 == "99%" { p99 = ms($2); dist = 0 }
	/^Requests\/sec:/ { rps = $2 }
	/Non-2xx or 3xx responses:/ { err += $NF }
	/Socket errors:/ {
		for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) err += $i + 0
	}
	END {
		if (rps == "" || p50 == "" || p99 == "") exit 1
		printf "%.2f %.3f %.3f %d\n", rps, p50, p99, err
	}'
}

# bench_wrk URL [WRK_ARGS...]: run wrk --latency (default -t1 -c$BENCH_CONNECTIONS
# -d$BENCH_DURATION, overridable by WRK_ARGS) on BENCH_CLIENT_CPUS and print
# "rps p50_ms p99_ms errors". The raw output is kept in BENCH_TMP/wrk.last.
bench_wrk() {
	local url=$1
	shift
	local raw=${BENCH_TMP:-/tmp}/wrk.last
	(bench_taskset "$BENCH_CLIENT_CPUS" wrk --latency -t"${BENCH_WRK_THREADS:-1}" \
		-c"${BENCH_CONNECTIONS:-32}" -d"${BENCH_DURATION:-5s}" "$@" "$url") >"$raw" 2>&1 || {
		bench_log "wrk failed against $url:"
		cat "$raw" >&2
		return 1
	}
	bench_wrk_parse <"$raw" || {
		bench_log "could not parse wrk output:"
		cat "$raw" >&2
		return 1
	}
}

# bench_median N...: print the median of the numbers given (mean of the middle two if even).
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	END {
		if (NR == 0) exit 1
		if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]
		else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
	}'
}

# bench_ratio A B: print A/B with three decimals.
bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) exit 1; printf "%.3f\n", a / b }'
}

# bench_json_array N...: print the numbers as a JSON array.
bench_json_array() {
	local IFS=,
	printf '[%s]' "$*"
}

# bench_machine: one line describing the machine (cores, CPU model, load average).
bench_machine() {
	local model
	model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	printf '%s cores, %s, loadavg %s\n' "$(nproc)" "${model:-unknown CPU}" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
}

# bench_json_str TEXT: print TEXT as a JSON string (quotes, backslashes, control chars escaped).
bench_json_str() {
	python3 -c 'import json, sys; sys.stdout.write(json.dumps(sys.argv[1]))' "$1"
}

# bench_verdict VALUE OP TARGET: print "meets" if VALUE OP TARGET holds (OP is ge or le), else
# "MISSES".
bench_verdict() {
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
		ok = (op == "ge") ? (v >= t) : (v <= t)
		print ok ? "meets" : "MISSES"
	}'
}

# bench_rss_kb PID: print VmRSS of PID in kB (from /proc/PID/status).
bench_rss_kb() {
	awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) exit 1 }' "/proc/$1/status"
}

# bench_python SCRIPT ARGS...: run one of bench/*.py (the generators) with a time bound of
# BENCH_GEN_TIMEOUT seconds (default 1800) and print its stdout (one JSON object).
bench_python() {
	local script=$1
	shift
	timeout "${BENCH_GEN_TIMEOUT:-1800}" python3 "$BENCH_ROOT/bench/$script" "$@"
}

# bench_json_get JSON KEY: print one top-level field of a JSON object.
bench_json_get() {
	python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

# bench_profile PID SECONDS OUT: when PROFILE=1, record `perf record -g` of PID (or of a
# comma-separated list of pids) for SECONDS in the background (perf.data in BENCH_TMP) and write
# the top 60 symbols of `perf report --stdio -g none` by self and by inclusive time to OUT when
# bench_profile_end is called. Sets BENCH_PERF_PID. No-op unless PROFILE=1.
bench_profile() {
	[[ ${PROFILE:-0} == 1 ]] || return 0
	command -v perf >/dev/null || bench_die "PROFILE=1 needs perf"
	BENCH_PERF_OUT=$3
	BENCH_PERF_DATA=$BENCH_TMP/perf.$1.data
	perf record -q -F 999 -g -p "$1" -o "$BENCH_PERF_DATA" -- sleep "$2" >/dev/null 2>&1 &
	BENCH_PERF_PID=$!
	BENCH_PIDS+=("$BENCH_PERF_PID") # stopped by bench_cleanup if the script ends early
}

# bench_profile_end: wait for the recording started by bench_profile and write its report.
bench_profile_end() {
	[[ ${PROFILE:-0} == 1 && -n ${BENCH_PERF_PID:-} ]] || return 0
	local p keep=()
	wait "$BENCH_PERF_PID" 2>/dev/null || true
	for p in "${BENCH_PIDS[@]}"; do
		[[ $p == "$BENCH_PERF_PID" ]] || keep+=("$p")
	done
	BENCH_PIDS=("${keep[@]}")
	BENCH_PERF_PID=
	{
		echo "## self time (perf report --stdio --no-children -g none), top 60"
		perf report --stdio --no-children -g none -i "$BENCH_PERF_DATA" 2>/dev/null |
			grep -v '^#' | grep -v '^$' | head -60 || true
		echo
		echo "## inclusive time (perf report --stdio --children -g none), top 60"
		perf report --stdio --children -g none -i "$BENCH_PERF_DATA" 2>/dev/null |
			grep -v '^#' | grep -v '^$' | head -60 || true
	} >"$BENCH_PERF_OUT"
	bench_log "profile written to $BENCH_PERF_OUT"
}

# bench_repin PID CPUS: move every thread of a running server to the taskset CPU list CPUS
# (e.g. "0", or "0-$(($(nproc) - 1))" to undo).
bench_repin() {
	taskset -a -p -c "$2" "$1" >/dev/null || bench_die "taskset -a -p -c $2 $1 failed"
}

# bench_as_pg CMD...: run CMD as the postgres user when we are root (a cluster may not belong to
# root), else as ourselves.
bench_as_pg() {
	if [[ $(id -u) == 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# bench_start_pg NAME CONF: initdb a throwaway PostgreSQL cluster in BENCH_TMP/NAME (newest
# /usr/lib/postgresql/*/bin, as the postgres user when root, trust authentication, UTF8, C.UTF-8),
# append CONF (postgresql.conf lines) after listen_addresses = 127.0.0.1, a free port and the
# socket in BENCH_TMP/NAME, and start it with pg_ctl. bench_cleanup stops it (even on failure).
# Sets PG_BIN, PG_VERSION, PG_DIR, PG_DATA, PG_PORT, PG_URL (postgresql://postgres@127.0.0.1:PORT,
# append /DBNAME) and PG_PID (the postmaster).
bench_start_pg() {
	local name=$1 conf=$2 log
	PG_BIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
		sort -V | tail -1)
	[[ -n $PG_BIN && -x $PG_BIN/initdb ]] ||
		bench_die "PostgreSQL server not installed (apt-get install -y postgresql)"
	PG_VERSION=$("$PG_BIN/postgres" --version | awk '{ print $3 }')
	PG_DIR=$BENCH_TMP/$name
	PG_DATA=$PG_DIR/data
	mkdir -p "$PG_DIR" || return 1
	if [[ $(id -u) == 0 ]]; then
		chmod 711 "$BENCH_TMP" || return 1 # the postgres user must reach its directory
		chown postgres "$PG_DIR" || return 1
	fi
	log=$PG_DIR/initdb.log
	bench_as_pg "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
		>"$log" 2>&1 || {
		cat "$log" >&2
		bench_log "initdb failed"
		return 1
	}
	PG_PORT=$(bench_free_port) || return 1
	printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\n%s\n" \
		"$PG_PORT" "$PG_DIR" "$conf" >>"$PG_DATA/postgresql.conf" || return 1
	BENCH_PG_DIRS+=("$PG_DATA")
	bench_as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/server.log" -w -t 60 start \
		>"$PG_DIR/pg_ctl.log" 2>&1 || {
		cat "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log" >&2
		bench_log "PostgreSQL did not start"
		return 1
	}
	PG_PID=$(head -1 "$PG_DATA/postmaster.pid") || return 1
	PG_URL=postgresql://postgres@127.0.0.1:$PG_PORT
}

# bench_pg_pids PG_PID: print the postmaster and its children (the backends), comma-separated.
bench_pg_pids() {
	local pids
	pids=$(pgrep -P "$1" | paste -sd, -) || true
	printf '%s%s\n' "$1" "${pids:+,$pids}"
}

# bench_stop_pg DATA_DIR: stop a cluster of bench_start_pg (fast shutdown, immediate after 30 s).
bench_stop_pg() {
	[[ -f $1/postmaster.pid ]] || return 0
	bench_as_pg "$PG_BIN/pg_ctl" -D "$1" -m fast -t 30 stop >/dev/null 2>&1 ||
		bench_as_pg "$PG_BIN/pg_ctl" -D "$1" -m immediate stop >/dev/null 2>&1 || true
}

# bench_segments_lua FILE: write the wrk script of the segment window queries to FILE. Each
# request asks for GET /flows/$SEG_FLOW/segments?timerange=[S:0_S+$SEG_WINDOW:0)&limit=100 at a
# random whole second S in [0, $SEG_SPAN - $SEG_WINDOW] (SEG_* from the environment; each wrk
# thread seeds its own generator). At the end it prints "empty answers: N" (answers without a
# segment, a bug when every window is inside the flow).
bench_segments_lua() {
	cat >"$1" <<'EOF'
local flow = os.getenv("SEG_FLOW")
local span = tonumber(os.getenv("SEG_SPAN"))
local win = tonumber(os.getenv("SEG_WINDOW"))
local n = 0
local threads = {}
function setup(thread)
	n = n + 1
	thread:set("tid", n)
	table.insert(threads, thread)
end
function init(args)
	math.randomseed(os.time() * 97 + (tid or 0))
end
function request()
	local s = math.random(0, span - win)
	return wrk.format("GET", string.format(
		"/flows/%s/segments?timerange=%%5B%d:0_%d:0%%29&limit=100", flow, s, s + win))
end
-- Count answers without a segment (an empty array is a bug here: every window is inside the flow).
empty = 0
function response(status, headers, body)
	if #body < 3 then
		empty = empty + 1
	end
end
function done(summary, latency, requests)
	local e = 0
	for _, t in ipairs(threads) do
		e = e + t:get("empty")
	end
	io.write(string.format("empty answers: %d\n", e))
end
EOF
}
