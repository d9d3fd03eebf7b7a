#!/usr/bin/env bash
# run.sh - install dependencies, build, and start tamsd on its embedded defaults:
# SQLite and the built-in object store under ./data, listening on 127.0.0.1:8080.
# Extra arguments go to tamsd (see `build/tamsd --help`). Only the server is built: nothing here
# needs the TAMS spec the tests load.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh --ui # --ui: npm, for the web interface's player (hls.js)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAMS_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
# TAMS_SPEC_DIR and TAMS_SPEC82_DIR are for building and testing; tamsd itself refuses TAMS_* variables it does not know.
unset TAMS_SPEC_DIR TAMS_SPEC82_DIR
exec ./build/tamsd --listen 127.0.0.1:8080 --data-dir ./data "$@"
