#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The web interface's timeline (issue 16 item 2): opening a flow page and zooming to a window
# costs the same on a flow of a million segments as on a small one, since the timeline asks
# only for what it draws (docs/ui.md). One tamsd (SQLite) holds a SMALL flow and a LARGE one,
# filled through the API by bench/gen_segments.py, each with two gaps; bench/ui_timeline.py then
# times, interleaved, ROUNDS "opens" of each (flow, analytics, gaps pages, one window of WINDOW
# segments) and prints the medians and the large/small ratio of a whole open.
#
# Env: SMALL (2000), LARGE (1000000), DUR (2 s per segment), WINDOW (1000), ROUNDS (21),
# GEN_CONNS (2), BROWSER=1 (also time the page in headless Chromium: python3-selenium,
# chromium-driver), BENCH_NO_BUILD=1, BENCH_TAMSD.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

SMALL=${SMALL:-2000}
LARGE=${LARGE:-1000000}
DUR=${DUR:-2}
WINDOW=${WINDOW:-1000}
ROUNDS=${ROUNDS:-21}
GEN_CONNS=${GEN_CONNS:-2}
for v in SMALL LARGE DUR WINDOW ROUNDS GEN_CONNS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done
((SMALL >= WINDOW)) || bench_die "SMALL must hold a window of WINDOW segments"

bench_init
bench_build_tamsd
echo "# ui timeline, $(date -u +%Y-%m-%dT%H:%M:%SZ); machine: $(bench_machine)"
bench_start_tamsd ui_timeline 2 || bench_die "tamsd failed to start"
url=$TAMSD_URL
small=b2b2b2b2-0000-4000-8000-000000002000
large=b2b2b2b2-0000-4000-8000-000001000000
for f in "small $SMALL $small" "large $LARGE $large"; do
	read -r name n id <<<"$f"
	t0=$(date +%s.%N)
	bench_python gen_segments.py --url "$url" --flow "$id" --count "$n" --dur "$DUR" \
		--conns "$GEN_CONNS" >/dev/null || bench_die "fill ($name) failed"
	for k in 1 2; do # two gaps of 5 segments
		bench_python gen_segments.py --url "$url" --flow "$id" --no-create \
			--first $((n + k * 5 + (k - 1) * 3)) --count 3 --dur "$DUR" --conns 1 >/dev/null ||
			bench_die "gap fill ($name) failed"
	done
	echo "# fill $name: $((n + 6)) segments in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
done
res=$(bench_python ui_timeline.py --url "$url" --flow "$small" --flow "$large" \
	--rounds "$ROUNDS" --window "$WINDOW" ${BROWSER:+--browser}) || bench_die "timing failed"
echo "$res"
python3 - "$res" "$small" "$large" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); s, l = r[sys.argv[2]], r[sys.argv[3]]
for k in s["median_ms"]:
    print(f"{k:10s} small {s['median_ms'][k]:8.3f} ms  large {l['median_ms'][k]:8.3f} ms  "
          f"large/small {l['median_ms'][k] / s['median_ms'][k]:.3f}")
print(f"bytes of one open: small {s['bytes']}, large {l['bytes']}; window segments "
      f"{s['window_segments']} / {l['window_segments']}")
if "browser_open_ms" in s:
    print(f"browser, page to timeline and segment list: small {s['browser_open_ms']} ms, "
          f"large {l['browser_open_ms']} ms, large/small "
          f"{l['browser_open_ms'] / s['browser_open_ms']:.3f}")
PY
