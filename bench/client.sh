#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# client.sh - the tams client's ingest and export throughput against the ffmpeg tool doing the
# same remux on the same file, side by side.
#
#   bench/client.sh                   # SECONDS_OF_MEDIA=60 SIZE=1280x720 ROUNDS=5
#
# The media: testsrc2 + sine, H.264 (a keyframe every 2 s) + AAC in MPEG-TS, made once.
# Each round, alternating:
#   ingest   `tams ingest` into a fresh tamsd (built-in store, loopback): probe, cut each
#            stream at the keyframes into 2 s MPEG-TS segments, allocate, PUT, register;
#   ffmpeg   the same cut without the store: `ffmpeg -c copy -f segment` of the video and the
#            audio into 2 s MPEG-TS files on the same disk;
#   export   `tams export SOURCE -o out.mp4`: list, GET every segment, remux into one MP4;
#   ffmpeg   the same remux from the file: `ffmpeg -i in.ts -c copy out.mp4`.
# Figures: median seconds, segments/s and MB/s (of the input file) of each, and the ratio
# tams/ffmpeg of throughput (1.0 = as fast as the bare remux). Writes bench/out/client.json.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SECONDS_OF_MEDIA=${SECONDS_OF_MEDIA:-60}
SIZE=${SIZE:-1280x720}
ROUNDS=${ROUNDS:-5}
bench_init
bench_build_tamsd
cmake --build "$BENCH_BUILD_DIR" -j2 --target tams >>"$BENCH_TMP/build.log" 2>&1 ||
	bench_die "building tams failed"
TAMS=$BENCH_BUILD_DIR/tams
command -v ffmpeg >/dev/null || bench_die "needs ffmpeg (apt-get install ffmpeg)"

media=$BENCH_TMP/in.ts
bench_log "making ${SECONDS_OF_MEDIA}s of ${SIZE} media"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=$SIZE:rate=25" \
	-f lavfi -i sine=frequency=440:sample_rate=48000 -t "$SECONDS_OF_MEDIA" \
	-c:v libx264 -preset veryfast -g 50 -keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p \
	-c:a aac -b:a 128k -ac 2 "$media"
bytes=$(stat -c %s "$media")
segs_per_stream=$(((SECONDS_OF_MEDIA + 1) / 2))
segs=$((2 * segs_per_stream))

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.4f}')"; }

ingest=() ffseg=() export=() ffmux=()
for ((round = 1; round <= ROUNDS; round++)); do
	bench_start_tamsd "r$round" 2 || bench_die "tamsd did not start"
	t0=$(now)
	out=$("$TAMS" --url "$TAMSD_URL" ingest "$media" --json --quiet)
	t1=$(now)
	ingest+=("$(elapsed "$t0" "$t1")")
	source_id=$(bench_json_get "$out" source_id)

	rm -rf "$BENCH_TMP/seg" && mkdir -p "$BENCH_TMP/seg"
	t0=$(now)
	ffmpeg -hide_banner -loglevel error -y -i "$media" \
		-map 0:v -c copy -f segment -segment_time 2 -segment_format mpegts "$BENCH_TMP/seg/v%04d.ts" \
		-map 0:a -c copy -f segment -segment_time 2 -segment_format mpegts "$BENCH_TMP/seg/a%04d.ts"
	t1=$(now)
	ffseg+=("$(elapsed "$t0" "$t1")")

	t0=$(now)
	"$TAMS" --url "$TAMSD_URL" export "$source_id" -o "$BENCH_TMP/out.mp4" --quiet
	t1=$(now)
	export+=("$(elapsed "$t0" "$t1")")

	t0=$(now)
	ffmpeg -hide_banner -loglevel error -y -i "$media" -c copy "$BENCH_TMP/ff.mp4"
	t1=$(now)
	ffmux+=("$(elapsed "$t0" "$t1")")
	bench_stop "$TAMSD_PID"
	bench_log "round $round: ingest ${ingest[-1]}s (ffmpeg ${ffseg[-1]}s), export ${export[-1]}s (ffmpeg ${ffmux[-1]}s)"
done

mi=$(bench_median "${ingest[@]}") mf=$(bench_median "${ffseg[@]}")
me=$(bench_median "${export[@]}") mm=$(bench_median "${ffmux[@]}")
python3 - "$mi" "$mf" "$me" "$mm" "$bytes" "$segs" "$BENCH_OUT/client.json" <<'PY'
import json, sys
mi, mf, me, mm, size, segs = (float(x) for x in sys.argv[1:7])
row = lambda t: {"seconds": t, "segments_per_s": round(segs / t, 1), "MB_per_s": round(size / t / 1e6, 1)}
doc = {"bytes": int(size), "segments": int(segs), "ingest": row(mi), "ffmpeg_segment": row(mf),
       "export": row(me), "ffmpeg_remux": row(mm),
       "ingest_ratio": round(mf / mi, 3), "export_ratio": round(mm / me, 3)}
print(json.dumps(doc, indent=1))
open(sys.argv[7], "w").write(json.dumps(doc) + "\n")
PY
