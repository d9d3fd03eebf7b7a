#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# stress.sh - stress and soak run: start tamsd (SQLite, or PostgreSQL with --pg / --database),
# drive the realistic mix of bench/stress.py against it for a duration and scale, and write the
# report (summary.md, summary.json, timeline.csv, plots) to bench/out/stress-<timestamp>/.
#
#   bench/stress.sh [--pg | --database URL] [--threads N] [--out DIR] [STRESS.PY OPTIONS...]
#   bench/stress.sh --duration 30m --scale medium          # a soak on SQLite
#   bench/stress.sh --pg --duration 5m --scale small        # on a throwaway PostgreSQL cluster
#   bench/stress.py --help                                  # the mix, the scales and every option
#
# --pg starts a throwaway PostgreSQL cluster (lib.sh's bench_start_pg, pg.sh's settings: fsync
# on); --database postgresql://... uses an existing database instead (tests/api/test_stress.py
# passes a schema of the test cluster). tamsd runs with --webhooks-allow-private true (the
# receiver is on 127.0.0.1) and --access-log false; TAMSD_ARGS adds flags. The script stops
# tamsd with SIGTERM at the end and records its exit status; tamsd's log is copied to the output
# directory. Exit status: stress.py's (0 passed, 1 failed), or 1 if tamsd did not stop cleanly.
# Env: BENCH_TAMSD, BENCH_NO_BUILD=1 (lib.sh), TAMSD_ARGS, THREADS (tamsd --threads, default
# nproc), PG_POOL (--db-pool-size).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CMDLINE="bench/stress.sh $*"
PG=0
DATABASE=
THREADS=${THREADS:-$(nproc)}
OUT=
PASS=()
while (($#)); do
	case $1 in
	--pg) PG=1 ;;
	--database) DATABASE=$2; shift ;;
	--database=*) DATABASE=${1#*=} ;;
	--threads) THREADS=$2; shift ;;
	--out) OUT=$2; shift ;;
	--out=*) OUT=${1#*=} ;;
	-h | --help)
		sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) PASS+=("$1") ;;
	esac
	shift
done

bench_init
OUT=${OUT:-$BENCH_OUT/stress-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
bench_build_tamsd

db_args=()
db_label="SQLite (tamsd's own, in a temp dir)"
pg_pid_args=()
if [[ $PG == 1 ]]; then
	bench_start_pg pg "shared_buffers = 256MB
effective_cache_size = 1GB
work_mem = 8MB
maintenance_work_mem = 128MB
wal_buffers = 16MB
max_wal_size = 2GB
checkpoint_timeout = 15min
random_page_cost = 1.1
max_connections = 200" || bench_die "PostgreSQL did not start"
	psql "$PG_URL/postgres" -qAt -c "CREATE DATABASE tams_stress" >/dev/null
	DATABASE=$PG_URL/tams_stress
	db_label="PostgreSQL $PG_VERSION (throwaway cluster, fsync on, synchronous_commit on)"
	pg_pid_args=(--pg-pid "$PG_PID")
elif [[ -n $DATABASE ]]; then
	db_label="PostgreSQL at ${DATABASE%%\?*}"
fi
if [[ -n $DATABASE ]]; then
	db_args=(--database "$DATABASE")
	[[ -n ${PG_POOL:-} ]] && db_args+=(--db-pool-size "$PG_POOL")
fi

# shellcheck disable=SC2086 # TAMSD_ARGS is a list of flags
bench_start_tamsd tamsd "$THREADS" --webhooks-allow-private true "${db_args[@]}" \
	${TAMSD_ARGS:-} || bench_die "tamsd did not start"
bench_log "tamsd pid $TAMSD_PID at $TAMSD_URL ($db_label), output in $OUT"

rev=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
tamsd_label="$BENCH_TAMSD (tree $rev, --threads $THREADS${TAMSD_ARGS:+ $TAMSD_ARGS})"
rc=0
STRESS_COMMAND="$CMDLINE" python3 "$BENCH_ROOT/bench/stress.py" --url "$TAMSD_URL" \
	--pid "$TAMSD_PID" "${pg_pid_args[@]}" --out "$OUT" --db-label "$db_label" \
	--tamsd-label "$tamsd_label" "${PASS[@]}" || rc=$?

# Stop tamsd ourselves to see how it exits (a sanitizer report or a hang is a failure too).
kill -TERM "$TAMSD_PID" 2>/dev/null || true
trc=0
wait "$TAMSD_PID" || trc=$?
bench_stop "$TAMSD_PID"
cp "$TAMSD_LOG" "$OUT/tamsd.log"
echo "$trc" >"$OUT/tamsd-exit-status"
if [[ $trc != 0 ]]; then
	bench_log "tamsd exited with status $trc (log: $OUT/tamsd.log)"
	rc=1
fi
bench_log "report: $OUT/summary.md ($([[ $rc == 0 ]] && echo passed || echo FAILED))"
exit "$rc"
