#!/usr/bin/env bash
# callgrind instruction counts of registration: before vs after (analytics triggers)
set -euo pipefail
GEN=/work/wt-analytics/bench/gen_segments.py
FLOW=c0c0c0c0-0000-4000-8000-000000000001
for name in base new; do
  bin=/tmp/b-base-analytics/tamsd; [[ $name == new ]] && bin=/tmp/b-analytics/tamsd
  d=/tmp/an-cg/$name; rm -rf $d; mkdir -p $d/data
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  valgrind --tool=callgrind --callgrind-out-file=$d/cg.%p $bin --listen 127.0.0.1:$port --data-dir $d/data --threads 2 --access-log false > $d/log 2>&1 &
  vpid=$!
  for i in $(seq 1 120); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 1; done
  python3 $GEN --url http://127.0.0.1:$port --flow $FLOW --count 5000 --conns 1 >/dev/null
  callgrind_control -z $vpid >/dev/null
  python3 $GEN --url http://127.0.0.1:$port --flow $FLOW --no-create --first 5000 --count 10000 --conns 1 >/dev/null
  callgrind_control -d fill $vpid >/dev/null
  callgrind_control -z $vpid >/dev/null
  python3 $GEN --url http://127.0.0.1:$port --flow $FLOW --no-create --mode fresh --first 20000 --count 2000 --conns 1 >/dev/null
  callgrind_control -d fresh $vpid >/dev/null
  kill $vpid; wait $vpid || true
  for f in $d/cg.*; do echo "$name $(basename $f): $(grep -m1 '^desc: Trigger' $f) $(grep -m1 '^summary:' $f)"; done
done
