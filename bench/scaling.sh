#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scaling.sh - 1, 2 and 4 tamsd instances on one PostgreSQL behind nginx (an upstream with
# keepalive), each instance, the database, nginx and wrk held to a fixed CPU share, so that a
# small machine shows how throughput and p99 grow with N and where PostgreSQL becomes the limit.
#
#   bench/scaling.sh                      # defaults below; about 10 minutes
#   NS="1 2 4 8" ROUNDS=5 bench/scaling.sh
#
# CPU shares: cgroup v2 cpu.max when /sys/fs/cgroup has a writable cpu controller, else cgroup
# v1 cpu.cfs_quota_us (/sys/fs/cgroup/cpu), else taskset (tamsd and nginx on core 0,
# PostgreSQL on core 1: coarse). LIMIT=cgroup2|cgroup1|taskset|none forces one. Shares in cores:
# TAMSD_CPU per instance (0.2), PG_CPU (0.5), NGINX_CPU (0.3), WRK_CPU (0.5); the groups keep
# the default weight, so other work on the machine can still take CPU from them: the run-queue
# wait of every tier (/proc/PID/task/*/schedstat) is reported beside its CPU time.
#
# Setup: a throwaway PostgreSQL cluster (pg.sh's settings, fsync on, synchronous_commit
# PG_SYNC_COMMIT: on), FLOWS (1,000) flows, one flow of SEGMENTS (100,000) segments, WRITE_FLOWS
# (64) flows with one registered object each.
# All instances share one data dir (the built-in store) and the database. Then for each round and
# N (order alternating between rounds), N fresh instances (THREADS threads, default pool) behind
# a fresh nginx, a 4 s wait (an instance trusts its cache once peers know it), and per workload
# a WARMUP (2s) then a DURATION (10s) run of `wrk -t$WRK_THREADS -c$CONNECTIONS` through nginx:
#   flow    GET /flows/{id}, a random one of the FLOWS
#   window  GET /flows/{id}/segments?timerange=<random 10 s>&limit=100 on the big flow
#   write   POST /flows/{id}/segments, one new 2 s segment of one of the WRITE_FLOWS
#   mix     50% window, 30% flow, 20% write
# Per run: req/s, p50, p99 and errors from wrk, and from /proc the CPU time of each tier (nginx,
# the tamsd instances, the postgres processes, wrk) and its run-queue wait, and the throttled
# share of each cgroup's periods. Medians over ROUNDS (3) per workload and N, with the CPU cost
# per request of each tier (CPU time / requests) and each tier's use of its share, are printed
# and written to bench/out/scaling.md; every run is a JSON line in bench/out/scaling.json.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

NS=${NS:-1 2 4}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-2}
THREADS=${THREADS:-2}
NGINX_WORKERS=${NGINX_WORKERS:-1}
TAMSD_CPU=${TAMSD_CPU:-0.2}
PG_CPU=${PG_CPU:-0.5}
NGINX_CPU=${NGINX_CPU:-0.3}
WRK_CPU=${WRK_CPU:-0.5}
LIMIT=${LIMIT:-auto}
FLOWS=${FLOWS:-1000}
SEGMENTS=${SEGMENTS:-100000}
WRITE_FLOWS=${WRITE_FLOWS:-64}
WORKLOADS=${WORKLOADS:-flow window write mix}
PG_SYNC_COMMIT=${PG_SYNC_COMMIT:-on}
SCALING_JSON=${SCALING_JSON:-}
SCALING_MD=${SCALING_MD:-}

bench_init
SCALING_JSON=${SCALING_JSON:-$BENCH_OUT/scaling.json}
SCALING_MD=${SCALING_MD:-$BENCH_OUT/scaling.md}
command -v wrk >/dev/null || bench_die "wrk not installed (apt-get install -y wrk)"
bench_build_tamsd

# ---- CPU shares -------------------------------------------------------------------------------

CG_KIND=
CG_BASE=
cg_detect() {
	local probe
	if [[ $LIMIT == auto || $LIMIT == cgroup2 ]] && [[ -f /sys/fs/cgroup/cgroup.controllers ]] &&
		grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
		probe=/sys/fs/cgroup/tamsd-scaling-$$
		if mkdir "$probe" 2>/dev/null; then
			grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control ||
				echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
			if echo +cpu >"$probe/cgroup.subtree_control" 2>/dev/null; then
				CG_KIND=cgroup2 CG_BASE=$probe
				return
			fi
			rmdir "$probe"
		fi
	fi
	if [[ $LIMIT == auto || $LIMIT == cgroup1 ]] && [[ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]]; then
		probe=/sys/fs/cgroup/cpu/tamsd-scaling-$$
		if mkdir "$probe" 2>/dev/null; then
			CG_KIND=cgroup1 CG_BASE=$probe
			return
		fi
	fi
	if [[ $LIMIT == auto || $LIMIT == taskset ]] && command -v taskset >/dev/null && (($(nproc) >= 2)); then
		CG_KIND=taskset
		return
	fi
	[[ $LIMIT == auto || $LIMIT == none ]] || bench_die "LIMIT=$LIMIT is not available here"
	CG_KIND=none
}

# cg_make NAME CORES: a group with a CPU quota of CORES (period 100 ms).
cg_make() {
	local d=$CG_BASE/$1 quota
	quota=$(awk -v c="$2" 'BEGIN { printf "%d", c * 100000 }')
	mkdir -p "$d"
	case $CG_KIND in
	cgroup2) echo "$quota 100000" >"$d/cpu.max" ;;
	cgroup1)
		echo 100000 >"$d/cpu.cfs_period_us"
		echo "$quota" >"$d/cpu.cfs_quota_us"
		;;
	esac
}

# cg_add NAME PID...: move processes (all their threads) into a group; under taskset, pin them.
cg_add() {
	local name=$1 pid
	shift
	for pid in "$@"; do
		case $CG_KIND in
		cgroup1 | cgroup2) echo "$pid" >"$CG_BASE/$name/cgroup.procs" 2>/dev/null || true ;;
		taskset)
			case $name in
			pg) taskset -a -p -c 1 "$pid" >/dev/null 2>&1 || true ;;
			wrk) ;;
			*) taskset -a -p -c 0 "$pid" >/dev/null 2>&1 || true ;;
			esac
			;;
		esac
	done
}

# cg_throttled NAME: "periods throttled" of a group so far (0 0 without cgroups).
cg_throttled() {
	local f=$CG_BASE/$1/cpu.stat
	if [[ $CG_KIND == cgroup1 || $CG_KIND == cgroup2 ]] && [[ -f $f ]]; then
		awk '$1 == "nr_periods" { p = $2 } $1 == "nr_throttled" { t = $2 } END { print p + 0, t + 0 }' "$f"
	else
		echo "0 0"
	fi
}

cg_cleanup() {
	local d
	[[ $CG_KIND == cgroup1 || $CG_KIND == cgroup2 ]] || return 0
	[[ -d $CG_BASE ]] || return 0
	for d in "$CG_BASE"/*/; do
		[[ -d $d ]] || continue
		# Anything still inside (it should all be stopped by now) goes back to the root group.
		while read -r pid; do
			echo "$pid" >"${CG_BASE%/*}/cgroup.procs" 2>/dev/null || true
		done <"$d/cgroup.procs"
		rmdir "$d" 2>/dev/null || true
	done
	rmdir "$CG_BASE" 2>/dev/null || bench_log "could not remove $CG_BASE"
}

scaling_cleanup() {
	bench_cleanup
	cg_cleanup
}
trap scaling_cleanup EXIT

cg_detect
case $CG_KIND in
cgroup2) LIMIT_TEXT="cgroup v2 cpu.max ($CG_BASE)" ;;
cgroup1) LIMIT_TEXT="cgroup v1 cpu.cfs_quota_us, period 100 ms ($CG_BASE; no cgroup v2 cpu controller here)" ;;
taskset) LIMIT_TEXT="taskset: tamsd, nginx on core 0; PostgreSQL on core 1; wrk unpinned (no writable cgroup cpu controller)" ;;
none) LIMIT_TEXT="none" ;;
esac
bench_log "CPU shares: $LIMIT_TEXT"
if [[ $CG_KIND == cgroup1 || $CG_KIND == cgroup2 ]]; then
	for n in $NS; do
		for ((i = 1; i <= n; i++)); do [[ -d $CG_BASE/tamsd$i ]] || cg_make "tamsd$i" "$TAMSD_CPU"; done
	done
	cg_make pg "$PG_CPU"
	cg_make nginx "$NGINX_CPU"
	cg_make wrk "$WRK_CPU"
fi

# ---- /proc ------------------------------------------------------------------------------------

# proc_cpu PID...: "ticks wait_ns" summed over the processes and all their threads: utime+stime
# from /proc/PID/stat (clock ticks; the processes here have no space in their names) and the
# run-queue wait from /proc/PID/task/*/schedstat. Bash builtins only, so that the readings sit
# close to the run they bracket even when starting a process takes a second on a loaded machine.
proc_cpu() {
	local pid f st a b c ticks=0 wait=0
	for pid in "$@"; do
		read -r -a st <"/proc/$pid/stat" 2>/dev/null || continue
		ticks=$((ticks + st[13] + st[14]))
		for f in /proc/"$pid"/task/*/schedstat; do
			read -r a b c <"$f" 2>/dev/null || continue
			wait=$((wait + b))
		done
	done
	echo "$ticks $wait"
}
CLK_TCK=$(getconf CLK_TCK)

pg_pids() { echo "$PG_PID" $(pgrep -P "$PG_PID" || true); }
nginx_pids() { echo "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true); }

# ---- PostgreSQL and the data ------------------------------------------------------------------

bench_start_pg pg "shared_buffers = 256MB
effective_cache_size = 1GB
work_mem = 8MB
maintenance_work_mem = 128MB
wal_buffers = 16MB
max_wal_size = 2GB
checkpoint_timeout = 15min
checkpoint_completion_target = 0.9
random_page_cost = 1.1
effective_io_concurrency = 200
max_connections = 200
synchronous_commit = $PG_SYNC_COMMIT" || bench_die "PostgreSQL did not start"
psql "$PG_URL/postgres" -qAt -c "CREATE DATABASE tams_scaling" >/dev/null
DB_URL=$PG_URL/tams_scaling
if [[ $CG_KIND != none ]]; then
	cg_add pg $(pg_pids)
fi
DATA_DIR=$BENCH_TMP/shared-data
mkdir -p "$DATA_DIR"

bench_log "machine: $(bench_machine)"
bench_log "PostgreSQL $PG_VERSION on port $PG_PORT; filling ($FLOWS flows, $SEGMENTS segments, $WRITE_FLOWS write flows)"

# Instances: slot i is IPID[i] at IURL[i]; all share DATA_DIR and the database. Each listens on a
# port the kernel picks (--listen 127.0.0.1:0, read back from its log): with this many client
# connections a port found free a moment earlier may already be some socket's source port.
declare -a IPID IURL
start_instances() { # N
	local n=$1 i log url k
	for ((i = 1; i <= n; i++)); do
		log=$BENCH_TMP/tamsd$i.log
		: >"$log"
		"$BENCH_TAMSD" --listen 127.0.0.1:0 --data-dir "$DATA_DIR" --threads "$THREADS" \
			--database "$DB_URL" --access-log false --shutdown-timeout 2 ${TAMSD_ARGS:-} \
			>"$log" 2>&1 &
		IPID[i]=$!
		BENCH_PIDS+=("${IPID[i]}")
	done
	for ((i = 1; i <= n; i++)); do
		log=$BENCH_TMP/tamsd$i.log
		url=
		for ((k = 0; k < 300; k++)); do
			kill -0 "${IPID[i]}" 2>/dev/null || break
			url=$(grep -o '"listening on http://[0-9.]*:[0-9]*' "$log" | head -1 | cut -d' ' -f3 || true)
			[[ -z $url ]] || break
			sleep 0.1
		done
		IURL[i]=$url
		[[ -n $url ]] && bench_wait_http "$url/" "${IPID[i]}" 30 || {
			cat "$log" >&2
			bench_die "tamsd $i did not start"
		}
		[[ $CG_KIND == none ]] || cg_add "tamsd$i" "${IPID[i]}"
	done
}
stop_instances() { # N
	local i
	for ((i = 1; i <= $1; i++)); do bench_stop "${IPID[i]}"; done
}

start_lb() { # N
	local n=$1 i servers=
	for ((i = 1; i <= n; i++)); do servers+="        server ${IURL[i]#http://};"$'\n'; done
	bench_start_nginx "nginx-$n" "$NGINX_WORKERS" "        location / {
            proxy_pass http://tamsd;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host \$http_host;
        }" "    upstream tamsd {
$servers        keepalive 64;
    }" || bench_die "nginx did not start"
	[[ $CG_KIND == none ]] || cg_add nginx $(nginx_pids)
}

# The fill, through one instance.
start_instances 1
FILL_URL=${IURL[1]}
fill_flows=$(bench_python gen_flows.py --url "$FILL_URL" --count "$FLOWS" \
	--match $((FLOWS / 10)) --conns 4) ||
	bench_die "gen_flows.py failed"
SEG_FLOW=5e1b0c1a-9d1f-4c55-8a6e-2f4f3e2d1c0b
fill_segs=$(bench_python gen_segments.py --url "$FILL_URL" --flow "$SEG_FLOW" --count "$SEGMENTS" \
	--conns 4) || bench_die "gen_segments.py failed"
bench_log "fill: flows $(bench_json_get "$fill_flows" seconds) s, segments $(bench_json_get "$fill_segs" register_s) s"

LUA=$BENCH_TMP/scaling.lua
python3 - "$FILL_URL" "$WRITE_FLOWS" "$SEG_FLOW" "$SEGMENTS" "$LUA" <<'EOF'
import json, sys, urllib.parse, urllib.request, uuid
base, nwrite, seg_flow, nseg, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]

def call(method, url, body=None, ctype="application/json"):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, r.read()

ids, page = [], base + "/flows?limit=1000&tag.bench=flows"
while page and len(ids) < 1000:
    with urllib.request.urlopen(page, timeout=60) as r:
        ids += [f["id"] for f in json.loads(r.read())]
        link = r.headers.get("Link", "")
    page = None
    for part in link.split(","):
        if 'rel="next"' in part:
            page = part.split(";")[0].strip(" <>")
wflows, wobjs = [], []
for i in range(nwrite):
    fid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    call("PUT", base + "/flows/" + fid, {"id": fid, "source_id": sid,
         "format": "urn:x-nmos:format:video", "codec": "video/h264", "container": "video/mp2t",
         "label": "scaling write %d" % i, "tags": {"bench": "scaling-write"},
         "essence_parameters": {"frame_width": 1920, "frame_height": 1080}})
    st, body = call("POST", base + "/flows/%s/storage" % fid, {"limit": 1})
    obj = json.loads(body)["media_objects"][0]
    call("PUT", obj["put_url"]["url"], b"scaling", obj["put_url"].get("content-type", "video/mp2t"))
    call("POST", base + "/flows/%s/segments" % fid, {"object_id": obj["object_id"],
                                                     "timerange": "[0:0_2:0)"})
    wflows.append(fid)
    wobjs.append(obj["object_id"])
lua = lambda xs: "{" + ",".join('"%s"' % x for x in xs) + "}"
with open(out, "w") as f:
    f.write("""local flows = %s
local wflows = %s
local wobjs = %s
local segflow = "%s"
local span = %d
""" % (lua(ids), lua(wflows), lua(wobjs), seg_flow, 2 * nseg))
    f.write(r'''
local mode = os.getenv("MODE")
local base = tonumber(os.getenv("SEG_BASE"))
local nthreads = tonumber(os.getenv("NTHREADS"))
local win = 10
local n = 0
local threads = {}
function setup(thread)
	n = n + 1
	thread:set("tid", n)
	table.insert(threads, thread)
end
local my = {}
local counter = {}
local k = 0
function init(args)
	math.randomseed(os.time() * 131 + (tid or 0))
	for i = tid, #wflows, nthreads do
		table.insert(my, i)
	end
end
local function flow_get()
	return wrk.format("GET", "/flows/" .. flows[math.random(#flows)])
end
local function window()
	local s = math.random(0, span - win)
	return wrk.format("GET", string.format(
		"/flows/%s/segments?timerange=%%5B%d:0_%d:0%%29&limit=100", segflow, s, s + win))
end
local hdrs = {["Content-Type"] = "application/json"}
local function write()
	k = k % #my + 1
	local i = my[k]
	local c = counter[i] or 0
	counter[i] = c + 1
	local s = base + 2 * c
	return wrk.format("POST", "/flows/" .. wflows[i] .. "/segments", hdrs, string.format(
		'{"object_id":"%s","timerange":"[%d:0_%d:0)"}', wobjs[i], s, s + 2))
end
function request()
	if mode == "flow" then return flow_get() end
	if mode == "window" then return window() end
	if mode == "write" then return write() end
	local r = math.random()
	if r < 0.5 then return window() end
	if r < 0.8 then return flow_get() end
	return write()
end
empty = 0
function response(status, headers, body)
	if status == 200 and #body < 3 then
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
''')
print(len(ids), len(wflows))
EOF
stop_instances 1

# ---- the runs ---------------------------------------------------------------------------------

RUN_NO=0
RESULTS=$BENCH_TMP/results.txt # workload n round rps p50 p99 errors requests cpu... per line
: >"$RESULTS"
run_id=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# wrk_run MODE DURATION: one wrk run through nginx, in the wrk group; prints "rps p50 p99 errors
# requests empty wrk_cpu_s seconds" (wrk's CPU time from the shell's `times` for its children,
# the run's length as wrk reports it).
wrk_run() {
	local mode=$1 dur=$2 raw=$BENCH_TMP/wrk.last parsed reqs secs empty cpu procs=/dev/null
	[[ $CG_KIND == cgroup1 || $CG_KIND == cgroup2 ]] && procs=$CG_BASE/wrk/cgroup.procs
	RUN_NO=$((RUN_NO + 1))
	MODE=$mode SEG_BASE=$((RUN_NO * 10000000)) NTHREADS=$WRK_THREADS \
		bash -c 'echo $$ >"$1" 2>/dev/null || true; t=$2; shift 2; "$@"; rc=$?; times >"$t"; exit $rc' \
		_ "$procs" "$BENCH_TMP/wrk.times" \
		wrk --latency -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$dur" -s "$LUA" "$NGINX_URL" \
		>"$raw" 2>&1 || {
		cat "$raw" >&2
		bench_die "wrk failed"
	}
	parsed=$(bench_wrk_parse <"$raw") || {
		cat "$raw" >&2
		bench_die "could not parse wrk output"
	}
	reqs=$(awk '/requests in/ { print $1 }' "$raw")
	secs=$(awk '/requests in/ { sub(/s,?$/, "", $4); print $4 }' "$raw")
	empty=$(awk '/^empty answers:/ { print $3 }' "$raw")
	# times: second line "XmY.YYYs XmY.YYYs" = children's user and system time
	cpu=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] }
		printf "%.3f", s }' "$BENCH_TMP/wrk.times")
	echo "$parsed ${reqs:-0} ${empty:-0} ${cpu:-0} ${secs:-0}"
}

# tiers_sample N: "time nginx_cpu nginx_wait tamsd_cpu tamsd_wait pg_cpu pg_wait" now.
tiers_sample() {
	local n=$1 i pids=() ng pg
	for ((i = 1; i <= n; i++)); do pids+=("${IPID[i]}"); done
	ng=$(nginx_pids)
	pg=$(pg_pids)
	# shellcheck disable=SC2086 # lists of pids
	echo "$EPOCHREALTIME $(proc_cpu $ng) $(proc_cpu "${pids[@]}") $(proc_cpu $pg)"
}

throttle_sample() { # N: "tamsd_periods tamsd_throttled pg_p pg_t nginx_p nginx_t wrk_p wrk_t"
	local n=$1 i p t tp=0 tt=0
	for ((i = 1; i <= n; i++)); do
		read -r p t < <(cg_throttled "tamsd$i")
		tp=$((tp + p)) tt=$((tt + t))
	done
	echo "$tp $tt $(cg_throttled pg) $(cg_throttled nginx) $(cg_throttled wrk)"
}

cache_hits() { # N: "hits misses" of the flow cache summed over the instances
	local n=$1 i
	for ((i = 1; i <= n; i++)); do curl -s "${IURL[i]}/metrics"; done |
		awk '/^tams_flow_cache_requests_total\{result="hit"\}/ { h += $2 }
		     /^tams_flow_cache_requests_total\{result="miss"\}/ { m += $2 }
		     END { print h + 0, m + 0 }'
}

one_round() { # ROUND N
	local r=$1 n=$2 w before after tb ta wrk_before out ch0 ch1
	start_instances "$n"
	start_lb "$n"
	sleep 4
	for w in $WORKLOADS; do
		wrk_run "$w" "$WARMUP" >/dev/null
		ch0=$(cache_hits "$n")
		tb=$(throttle_sample "$n")
		before=$(tiers_sample "$n")
		out=$(wrk_run "$w" "$DURATION")
		after=$(tiers_sample "$n")
		ta=$(throttle_sample "$n")
		ch1=$(cache_hits "$n")
		echo "$w $n $r $out $before $after $tb $ta $ch0 $ch1 $(cut -d' ' -f1 /proc/loadavg)" >>"$RESULTS"
		bench_log "round $r N=$n $w: $(awk '{ printf "%.0f req/s p50 %.2f ms p99 %.2f ms errors %d empty %d", $1, $2, $3, $4, $6 }' <<<"$out")"
	done
	bench_stop "$NGINX_PID"
	stop_instances "$n"
}

bench_log "runs: NS=\"$NS\" ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP wrk -t$WRK_THREADS -c$CONNECTIONS; shares: tamsd $TAMSD_CPU each (threads $THREADS), PostgreSQL $PG_CPU, nginx $NGINX_CPU ($NGINX_WORKERS worker), wrk $WRK_CPU"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= ROUNDS; r++)); do
	order=$NS
	((r % 2 == 0)) && order=$(tr ' ' '\n' <<<"$NS" | tac | tr '\n' ' ')
	for n in $order; do one_round "$r" "$n"; done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the report -------------------------------------------------------------------------------

python3 - "$RESULTS" "$SCALING_JSON" "$SCALING_MD" <<EOF
import json, statistics, sys
res, jpath, mdpath = sys.argv[1:4]
cores = {"tamsd": float("$TAMSD_CPU"), "pg": float("$PG_CPU"), "nginx": float("$NGINX_CPU")}
rows = []
for line in open(res):
    f = line.split()
    w, n, r = f[0], int(f[1]), int(f[2])
    rps, p50, p99, err, reqs, empty, wrk_cpu, wall = map(float, f[3:11])
    b = list(map(float, f[11:18]))
    a = list(map(float, f[18:25]))
    tb = list(map(float, f[25:33]))
    ta = list(map(float, f[33:41]))
    ch = list(map(float, f[41:45]))
    load = float(f[45])
    # CPU is read just before and after wrk; the servers idle in between, so CPU / wrk's own
    # run time is the share used while it ran.
    d = [(x - y) / (float("$CLK_TCK") if k % 2 == 0 else 1e9)
         for k, (x, y) in enumerate(zip(a[1:], b[1:]))]
    t = [x - y for x, y in zip(ta, tb)]
    row = {"run": "$run_id", "workload": w, "n": n, "round": r, "rps": rps, "p50_ms": p50,
           "p99_ms": p99, "errors": int(err), "empty": int(empty), "requests": int(reqs),
           "load1": load, "cache_hits": ch[2] - ch[0], "cache_misses": ch[3] - ch[1],
           "wrk_s": wall, "sampled_s": a[0] - b[0], "wrk_cpu_s": wrk_cpu, "wrk_us_per_req": 1e6 * wrk_cpu / reqs if reqs else None}
    for k, tier in enumerate(("nginx", "tamsd", "pg")):
        cpu, wait = d[2 * k], d[2 * k + 1]
        share = cores[tier] * (n if tier == "tamsd" else 1)
        row[tier + "_cpu_s"] = cpu
        row[tier + "_wait_s"] = wait
        row[tier + "_us_per_req"] = 1e6 * cpu / reqs if reqs else None
        row[tier + "_share_used"] = cpu / wall / share if share else None
    for k, g in enumerate(("tamsd", "pg", "nginx", "wrk")):
        per, thr = t[2 * k], t[2 * k + 1]
        row[g + "_throttled"] = thr / per if per else None
    rows.append(row)
with open(jpath, "a") as f:
    for row in rows:
        f.write(json.dumps(row) + "\n")

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")

L = []
L.append("Scaling run $run_id: $(bench_machine | sed 's/, loadavg.*//'), PostgreSQL $PG_VERSION "
         "(synchronous_commit $PG_SYNC_COMMIT); CPU shares by $LIMIT_TEXT: tamsd $TAMSD_CPU core "
         "each ($THREADS threads, default pool), PostgreSQL $PG_CPU, nginx $NGINX_CPU "
         "($NGINX_WORKERS worker, upstream keepalive 64), wrk $WRK_CPU (-t$WRK_THREADS "
         "-c$CONNECTIONS, $DURATION per run after $WARMUP warm-up); medians of $ROUNDS rounds; "
         "load average $load_start at the start, $load_end at the end.")
L.append("")
ns = sorted({r["n"] for r in rows})
wls = "$WORKLOADS".split()
L.append("| workload | N | req/s | x N=1 | p50 ms | p99 ms | errors | flow cache hits | load1 |")
L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for w in wls:
    base = None
    for n in ns:
        rs = [r for r in rows if r["workload"] == w and r["n"] == n]
        if not rs:
            continue
        rps = med([r["rps"] for r in rs])
        base = base or rps
        hits = sum(r["cache_hits"] for r in rs)
        miss = sum(r["cache_misses"] for r in rs)
        L.append("| %s | %d | %.0f | %.2f | %.2f | %.2f | %d | %s | %.1f |" % (
            w, n, rps, rps / base, med([r["p50_ms"] for r in rs]), med([r["p99_ms"] for r in rs]),
            sum(r["errors"] + r["empty"] for r in rs),
            ("%.0f%%" % (100 * hits / (hits + miss))) if hits + miss else "-",
            med([r["load1"] for r in rs])))
L.append("")
L.append("CPU per request of each tier (CPU time from /proc over the requests wrk completed), the "
         "share of its CPU allowance each tier used (CPU time / wall time / cores allowed; tamsd: "
         "all N instances against N x $TAMSD_CPU), the share of 100 ms periods in which its group "
         "was throttled, and the run-queue wait (runnable, not running: throttling plus the "
         "machine's other load) in seconds per run:")
L.append("")
L.append("| workload | N | us/req nginx | us/req tamsd | us/req PG | us/req wrk | used: tamsd | PG | nginx | throttled: tamsd | PG | nginx | wrk | wait s: tamsd | PG |")
L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for w in wls:
    for n in ns:
        rs = [r for r in rows if r["workload"] == w and r["n"] == n]
        if not rs:
            continue
        L.append("| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f%% | %.0f%% | %.0f%% | %s | %.1f | %.1f |" % (
            w, n, med([r["nginx_us_per_req"] for r in rs]), med([r["tamsd_us_per_req"] for r in rs]),
            med([r["pg_us_per_req"] for r in rs]), med([r["wrk_us_per_req"] for r in rs]),
            100 * med([r["tamsd_share_used"] for r in rs]), 100 * med([r["pg_share_used"] for r in rs]),
            100 * med([r["nginx_share_used"] for r in rs]),
            " | ".join("%.0f%%" % (100 * med([r[g + "_throttled"] for r in rs]))
                       for g in ("tamsd", "pg", "nginx", "wrk")),
            med([r["tamsd_wait_s"] for r in rs]), med([r["pg_wait_s"] for r in rs])))
L.append("")
L.append("Rounds (req/s): " + "; ".join(
    "%s N=%d: %s" % (w, n, ", ".join("%.0f" % r["rps"] for r in rows
                                    if r["workload"] == w and r["n"] == n))
    for w in wls for n in ns))
text = "\n".join(L) + "\n"
open(mdpath, "w").write(text)
print(text)
EOF
bench_log "JSON lines appended to $SCALING_JSON, table in $SCALING_MD"
