#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# HLS playlists (issue 16 item 1): a 24-hour flow of 2-second segments (COUNT = 43,200) filled
# through the API (bench/gen_segments.py), then, interleaved, ROUNDS times each:
#   1. GET /hls/flows/{id}.m3u8?timerange=<the whole day>: one VOD playlist of COUNT segments;
#   2. GET /flows/{id}/segments?timerange=<the same>&limit=LIMIT, following the Link headers
#      to the last page: the same rows as JSON.
# Prints wall-clock medians of each, their ratio and the playlist's size; one tamsd, one client
# connection, requests in turn.
#
# Env: COUNT (43200), DUR (2 s), ROUNDS (7), LIMIT (1000, the default page_limit_max),
# THREADS (nproc), BENCH_NO_BUILD=1, HLS_JSON.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=${COUNT:-43200}
DUR=${DUR:-2}
ROUNDS=${ROUNDS:-7}
LIMIT=${LIMIT:-1000}
THREADS=${THREADS:-$(nproc)}
OUT_JSON=${HLS_JSON:-$BENCH_OUT/hls.json}
FLOW=5e9a1c6e-0000-4000-8000-00000000a8c0

for v in COUNT DUR ROUNDS LIMIT THREADS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a positive integer"
done

bench_init
bench_build_tamsd
machine=$(bench_machine)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "# HLS playlist vs GET segments, $started"
echo "# machine: $machine; THREADS=$THREADS; $COUNT segments of $DUR s"

bench_start_tamsd hls "$THREADS" || bench_die "tamsd failed to start"
fill=$(bench_python gen_segments.py --url "$TAMSD_URL" --flow "$FLOW" --count "$COUNT" \
	--dur "$DUR" --conns 2) || bench_die "fill failed"
echo "# fill: $fill"

# One client, one connection; prints the JSON of the timings.
timings=$(python3 - "$TAMSD_URL" "$FLOW" "$COUNT" "$DUR" "$ROUNDS" "$LIMIT" <<'PY'
import http.client, json, re, statistics, sys, time, urllib.parse
base, flow, count, dur, rounds, limit = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
u = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
tr = urllib.parse.quote(f"[0:0_{count * dur}:0)")

def get(path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    assert r.status == 200, (r.status, body[:300])
    return r, body

def playlist():
    r, body = get(f"/hls/flows/{flow}.m3u8?timerange={tr}")
    n = body.count(b"\n#EXTINF:")
    assert n == count and body.endswith(b"#EXT-X-ENDLIST\n"), n
    return len(body)

def segments():
    path, rows = f"/flows/{flow}/segments?timerange={tr}&limit={limit}", 0
    while path:
        r, body = get(path)
        rows += len(json.loads(body))
        m = re.search(r'<([^>]+)>;\s*rel="next"', r.getheader("Link") or "")
        path = urllib.parse.urlsplit(m.group(1))._replace(scheme="", netloc="").geturl() \
            if m else None
    assert rows == count, rows
    return rows

size = playlist()  # warm both once
segments()
pl, sg = [], []
for _ in range(rounds):
    t = time.perf_counter(); playlist(); pl.append(time.perf_counter() - t)
    t = time.perf_counter(); segments(); sg.append(time.perf_counter() - t)
print(json.dumps({"playlist_s": pl, "segments_s": sg, "playlist_bytes": size,
                  "playlist_median_s": statistics.median(pl),
                  "segments_median_s": statistics.median(sg)}))
PY
) || bench_die "timing failed"
pm=$(bench_json_get "$timings" playlist_median_s)
sm=$(bench_json_get "$timings" segments_median_s)
bytes=$(bench_json_get "$timings" playlist_bytes)
ratio=$(bench_ratio "$pm" "$sm")
rss=$(bench_rss_kb "$TAMSD_PID")
echo
echo "## $COUNT segments, medians of $ROUNDS"
printf 'playlist (1 request, %s bytes): %.3f s\n' "$bytes" "$pm"
printf 'GET segments (limit=%s, %s pages): %.3f s\n' "$LIMIT" "$(((COUNT + LIMIT - 1) / LIMIT))" "$sm"
echo "playlist / segments: $ratio"
echo "tamsd VmRSS after: $rss kB"
printf '{"started":%s,"machine":%s,"count":%s,"rounds":%s,"limit":%s,"timings":%s,"ratio":%s,"rss_kb":%s}\n' \
	"$(bench_json_str "$started")" "$(bench_json_str "$machine")" "$COUNT" "$ROUNDS" "$LIMIT" \
	"$timings" "$ratio" "$rss" >"$OUT_JSON"
echo "# results: $OUT_JSON"
