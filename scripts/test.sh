#!/usr/bin/env bash
# test.sh - install dependencies, build, and run every test:
#   1. format check (clang-format) and the banned-function lint,
#   2. release build with -Werror: unit tests, fuzz-corpus replays, API tests,
#   3. ASan+UBSan build: the same unit tests, replays and API tests.
# API tests start the real tamsd on 127.0.0.1 and fail on any sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh --test

echo "== format"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src tests fuzz -name '*.[ch]')
clang-format --dry-run --Werror $files

jobs=$(nproc)
build() { # dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DTAMS_DEVELOPER=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
}

echo "== release build"
build build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build-test && ctest --output-on-failure -j"$jobs")
TAMSD_BIN="$PWD/build-test/tamsd" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/api

echo "== sanitizer build (ASan + UBSan)"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DTAMS_SANITIZE=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs")
TAMSD_BIN="$PWD/build-asan/tamsd" TAMSD_SANITIZED=1 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/api
