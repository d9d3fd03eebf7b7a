#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# s3_endpoints.sh - get_urls over several healthy endpoints of one S3 backend, and off a failed
# one within the probe interval. Starts ENDPOINTS (3) tests/s3/s3server.py processes on their own
# ports over one data dir (so every endpoint serves every object: the endpoints of one store),
# tamsd with a storage config naming them as one backend (probe_interval PROBE, default 2 s; the
# backend is the default store), then runs bench/s3_endpoints.py: counts of the endpoint every
# get_url names with all healthy, after SIGTERM of one (refused), after SIGSTOP of another (hung),
# and after both come back, with the switch times. Appends a JSON line to bench/out/s3-endpoints.json.
#   bench/s3_endpoints.sh
#   PROBE=5 ENDPOINTS=4 READS=200 bench/s3_endpoints.sh
# Needs python3-botocore (tests/s3/s3server.py checks every signature with it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ENDPOINTS=${ENDPOINTS:-3}
PROBE=${PROBE:-2}
SEGMENTS=${SEGMENTS:-30}
READS=${READS:-100}
THREADS=${THREADS:-2}
((ENDPOINTS >= 3)) || bench_die "ENDPOINTS must be at least 3 (one killed, one hung, one up)"

bench_init
bench_build_tamsd
S3=$BENCH_ROOT/tests/s3/s3server.py
S3DIR=$BENCH_TMP/s3
mkdir -p "$S3DIR/tams-media" # the bucket: a directory the servers share
AK=AKIAIOSFODNN7EXAMPLE
SK=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

ports=() pids=()
for ((i = 0; i < ENDPOINTS; i++)); do
	ready=$BENCH_TMP/s3-ready-$i
	/usr/bin/python3 "$S3" --port 0 --dir "$S3DIR" --access-key "$AK" --secret-key "$SK" \
		--region us-east-1 --ready-file "$ready" 2>"$BENCH_TMP/s3-$i.log" &
	pids+=("$!")
	BENCH_PIDS+=("$!")
	for ((k = 0; k < 200; k++)); do
		[[ -s $ready ]] && break
		kill -0 "${pids[i]}" 2>/dev/null || bench_die "s3server $i did not start: $(cat "$BENCH_TMP/s3-$i.log")"
		sleep 0.1
	done
	ports+=("$(cat "$ready")")
done
endpoints=$(printf '"http://127.0.0.1:%s",' "${ports[@]}")
cat >"$BENCH_TMP/storage.json" <<EOF
{"backends": [{"id": "0b6f1c2e-7d3a-4e5f-9a1b-2c3d4e5f6a7b", "label": "s3-bench", "type": "s3",
  "provider": "tests/s3/s3server.py", "region": "us-east-1",
  "endpoints": [${endpoints%,}], "bucket": "tams-media", "prefix": "bench/", "addressing": "path",
  "access_key": "$AK", "secret_key": "$SK", "probe_interval": $PROBE, "default": true}],
 "local": {"default": false}}
EOF
bench_start_tamsd tamsd "$THREADS" --storage-config "$BENCH_TMP/storage.json" ${TAMSD_ARGS:-} ||
	bench_die "tamsd did not start"
bench_log "machine: $(bench_machine)"
bench_log "endpoints ${ports[*]} (pids ${pids[*]}), probe_interval $PROBE s, tamsd $TAMSD_URL"
sleep 1
IFS=, eval 'port_list="${ports[*]}"; pid_list="${pids[*]}"'
python3 "$BENCH_ROOT/bench/s3_endpoints.py" --url "$TAMSD_URL" --ports "$port_list" \
	--pids "$pid_list" --probe "$PROBE" --segments "$SEGMENTS" --reads "$READS" \
	--restart "/usr/bin/python3 $S3 --port {port} --dir $S3DIR --access-key $AK --secret-key $SK --region us-east-1" \
	--json "$BENCH_OUT/s3-endpoints.json"
grep -h '"msg"' "$TAMSD_LOG" | grep -i 'endpoint' | sed 's/^/tamsd log: /' >&2 || true
