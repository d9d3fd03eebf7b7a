#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make-store-fixture.sh - make the store fixture of a release: the store a tamsd of that release
# leaves, on SQLite and on PostgreSQL, filled through its API with everything the store can
# hold (scripts/store-fixture-fill.py), for tests/api/test_store_upgrade.py. See CONTRIBUTING.md.
#
# usage: scripts/make-store-fixture.sh TAMSD OUT_DIR PG_URL
#   TAMSD   the release's tamsd binary (built from the release's commit in its own build dir)
#   OUT_DIR tests/data/store-<version>; gets sqlite/ (a data directory with tams.db),
#           pg/ (a data directory without a database, and tams.sql: pg_dump --no-owner), and in
#           each a manifest.json, storage.json (the S3 backend, its endpoint's port to be
#           replaced) and s3/ (the S3 test server's files: bucket tams-media)
#   PG_URL  a PostgreSQL database (postgresql://postgres@127.0.0.1:55432/tams_x); the script
#           fills a schema "tams_store_fixture" there, dumps it and drops it
set -eu

tamsd=$1
out=$2
pg=$3
here=$(cd "$(dirname "$0")" && pwd)
schema=tams_store_fixture
work=$(mktemp -d /tmp/store-fixture.XXXXXX)
pid=
s3pid=
trap 'for p in $pid $s3pid; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
S3_ID=0c7d9a3e-5b1f-4e2a-8d6c-9f0e1a2b3c4d

# Real media, small: three one-second H.264 video segments and one AAC audio segment.
mkdir -p "$work/media"
for i in 0 1 2; do
    ffmpeg -loglevel error -f lavfi -i "testsrc=size=64x36:rate=25:duration=1" \
        -vf "drawbox=x=$((i * 8)):y=0:w=8:h=8:color=white" -c:v libx264 -preset ultrafast \
        -g 25 -f mpegts "$work/media/v$i.ts"
done
ffmpeg -loglevel error -f lavfi -i "sine=frequency=440:duration=1:sample_rate=48000" \
    -ac 2 -c:a aac -b:a 32k -f mpegts "$work/media/a0.ts"

port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A second storage backend: the S3 test server (tests/s3/s3server.py) on a folder of its own.
start_s3() {
    rm -f "$work/s3-ready"
    mkdir -p "$work/$1-s3/tams-media"
    /usr/bin/python3 "$here/../tests/s3/s3server.py" --port 0 --dir "$work/$1-s3" \
        --region eu-west-2 --ready-file "$work/s3-ready" 2>"$work/$1-s3.log" &
    s3pid=$!
    i=0
    until [ -s "$work/s3-ready" ]; do
        i=$((i + 1))
        [ $i -lt 200 ] || { cat "$work/$1-s3.log"; exit 1; }
        sleep 0.05
    done
    cat >"$work/$1-storage.json" <<EOF
{"backends": [{"id": "$S3_ID", "label": "s3-fixture", "type": "s3", "provider": "test",
  "store_product": "tams s3server", "region": "eu-west-2", "availability_zone": "eu-west-2a",
  "endpoints": ["http://127.0.0.1:$(cat "$work/s3-ready")"], "bucket": "tams-media",
  "prefix": "tams/", "addressing": "path", "access_key": "AKIAIOSFODNN7EXAMPLE",
  "secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}]}
EOF
}

stop_s3() {
    kill "$s3pid"
    wait "$s3pid" || true
    s3pid=
}

# fill NAME DATA_DIR [--database URL]: start the release's tamsd, fill it, stop it at once.
fill() {
    name=$1
    dir=$2
    shift 2
    start_s3 "$name"
    p=$(port)
    "$tamsd" --listen "127.0.0.1:$p" --data-dir "$dir" --soft-delete-retention 31536000 \
        --storage-config "$work/$name-storage.json" \
        --webhooks-allow-private true --delete-sync-limit 5 --delete-batch 1 \
        --gc-interval 3600 --delete-request-ttl 31536000 "$@" 2>"$work/$name.log" &
    pid=$!
    i=0
    until curl -fs "http://127.0.0.1:$p/health" >/dev/null; do
        i=$((i + 1))
        [ $i -lt 200 ] || { cat "$work/$name.log"; exit 1; }
        sleep 0.05
    done
    /usr/bin/python3 "$here/store-fixture-fill.py" "http://127.0.0.1:$p" "$work/media" \
        "$work/$name-manifest.json" "$S3_ID"
    kill -TERM "$pid"
    wait "$pid"
    pid=
    stop_s3
    cp -a "$work/$name-s3" "$dir/s3"
    mv "$work/$name-storage.json" "$dir/storage.json"
}

rm -rf "$out/sqlite" "$out/pg"
mkdir -p "$out"

# SQLite: the data directory as the release left it, its WAL folded into tams.db.
fill sqlite "$work/sqlite"
sqlite3 "$work/sqlite/tams.db" "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;" >/dev/null
rm -f "$work/sqlite/tams.db-wal" "$work/sqlite/tams.db-shm"
cp -a "$work/sqlite" "$out/sqlite"
mv "$work/sqlite-manifest.json" "$out/sqlite/manifest.json"

# PostgreSQL: the schema, dumped as plain SQL; the data directory (keys, built-in objects) beside.
psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema"
fill pg "$work/pg" --database "$pg?options=-csearch_path%3D$schema"
pg_dump --no-owner --no-privileges --schema "$schema" "$pg" >"$work/pg/tams.sql"
psql "$pg" -qc "DROP SCHEMA $schema CASCADE"
cp -a "$work/pg" "$out/pg"
mv "$work/pg-manifest.json" "$out/pg/manifest.json"

"$tamsd" --version >"$out/tamsd-version"
du -sh "$out"/*
