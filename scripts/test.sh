#!/usr/bin/env bash
# test.sh - install dependencies, find the TAMS 7.0 spec (scripts/spec-dir.sh), build, and run
# every test:
#   1. format check (clang-format) and the banned-function lint,
#   2. release build with -Werror: unit tests, fuzz-corpus replays, API tests (at the root, then
#      the TAMS API's own files again under /tams/v8.2),
#   3. deployment (tests/deploy): the container image built and run with podman, the systemd
#      unit checked by systemd-analyze, the Prometheus rules (promtool, amtool) and the
#      Kubernetes manifests (kubectl kustomize, schema validation),
#   4. ASan+UBSan build: the same unit tests, replays and API tests,
#   5. PostgreSQL: a throwaway cluster on 127.0.0.1 (initdb + pg_ctl as the postgres user, temp
#      data dir, free port, stopped on exit), started before the builds: the store contract
#      tests run on it under ctest in both builds (unit/store_pg/*, beside unit/store_sqlite/*),
#      and the whole API suite against the release binary with --database postgresql://... .
# API tests start the real tamsd on 127.0.0.1 and fail on any sanitizer report. They run in
# parallel (pytest-xdist): they mostly wait on servers and timers (one at a time they kept 0.24
# of one core busy), and each test's servers are their own: ports, data directories, PostgreSQL
# schemas in a database per worker, a PostgreSQL server of their own for a test that stops it
# (tests/api/conftest.py, pgcluster.py).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh --test

echo "== format"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src tests fuzz -name '*.[ch]')
clang-format --dry-run --Werror $files
/usr/bin/python3 scripts/layers.py # includes: no cycles, none the layer map forbids (docs/internals/layout.md)

# The TAMS 7.0 spec the tests load (fetched once if missing); CMake and tests/api use this one.
TAMS_SPEC_DIR=$(./scripts/spec-dir.sh) || exit 1
TAMS_SPEC82_DIR=$(./scripts/spec-dir.sh 8.2) || exit 1
export TAMS_SPEC_DIR TAMS_SPEC82_DIR

jobs=$(nproc)
# pytest-xdist workers for the API runs: more than the cores, since most of a test is waiting;
# fewer under the sanitizers, whose servers are several times heavier. A file's tests stay
# together, in order, on one worker: a module's server then sees its requests come as in a
# serial run (spread among other files' tests, a kept-alive connection of its could sit idle up
# to the server's idle timeout and be closed just as the next test sent on it).
api_workers=(-n 4 --dist loadfile)
asan_workers=(-n 3 --dist loadfile)
build() { # dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DTAMS_DEVELOPER=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
}

echo "== PostgreSQL (throwaway cluster)"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgdir=$(mktemp -d /tmp/tamsd-pg.XXXXXX)
pgport=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() { # the cluster belongs to the postgres user when we run as root
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
pg_cleanup() {
  as_pg "$pgbin/pg_ctl -D $pgdir/data -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap pg_cleanup EXIT
if [ "$(id -u)" = 0 ]; then chown postgres "$pgdir"; fi
as_pg "$pgbin/initdb -D $pgdir/data -A trust -U postgres -E UTF8 --locale=C.UTF-8" >/dev/null
cat >>"$pgdir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$pgdir'
max_connections = 400
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
as_pg "$pgbin/pg_ctl -D $pgdir/data -l $pgdir/log -w start" >/dev/null
psql "postgresql://postgres@127.0.0.1:$pgport/postgres" -qAt -c "CREATE DATABASE tams_test"
# ctest only: the first two API runs stay on SQLite (conftest.py reads TAMS_TEST_DATABASE).
pgenv=(TAMS_TEST_DATABASE="postgresql://postgres@127.0.0.1:$pgport/tams_test"
  TAMS_TEST_PGDATA="$pgdir/data" TAMS_TEST_PGBIN="$pgbin")

echo "== release build"
build build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build-test && env "${pgenv[@]}" ctest --output-on-failure -j"$jobs")
TAMSD_BIN="$PWD/build-test/tamsd" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
  "${api_workers[@]}" tests/api

# The files that test the TAMS API itself once more under /tams/v8.2, every answer validated
# against the 8.2 schemas (conftest.py: API_VERSION); tests of 7.0 behaviour that 8.2 changed
# skip or expect 8.2's (docs/tams-8.2-changes.md). Extensions are the same in both versions.
echo "== API tests under /tams/v8.2"
v82_files=()
for f in flows sources segments objects storage service deletion paging webhooks \
  webhook_security input concurrency read_cache gc local_store s3_backend soft_delete; do
  v82_files+=("tests/api/test_$f.py")
done
TAMSD_BIN="$PWD/build-test/tamsd" TAMS_TEST_BASE_PATH=/tams/v8.2 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "${api_workers[@]}" "${v82_files[@]}"

echo "== deployment: container image, systemd unit, Prometheus rules, Kubernetes (tests/deploy)"
TAMSD_BIN="$PWD/build-test/tamsd" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/deploy

echo "== sanitizer build (ASan + UBSan)"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DTAMS_SANITIZE=ON
(cd build-asan && env "${pgenv[@]}" ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs")
TAMSD_BIN="$PWD/build-asan/tamsd" TAMSD_SANITIZED=1 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "${asan_workers[@]}" tests/api

# This run also goes under the version prefix (docs/api-versions.md): every TAMS path the tests
# ask for is /tams/v7.0/..., at no cost in time; the other two runs keep the root paths.
echo "== API tests on PostgreSQL, under /tams/v7.0"
export TAMS_TEST_DATABASE="postgresql://postgres@127.0.0.1:$pgport/tams_test"
export TAMS_TEST_PGDATA="$pgdir/data" TAMS_TEST_PGBIN="$pgbin"
TAMSD_BIN="$PWD/build-test/tamsd" TAMS_TEST_BASE_PATH=/tams/v7.0 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "${api_workers[@]}" tests/api
