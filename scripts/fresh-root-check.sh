#!/usr/bin/env bash
# fresh-root-check.sh - prove that `scripts/deps.sh --test` installs everything the build and the
# tests need, on a Debian 12 that has nothing else: a minimal root made by
#   debootstrap --variant=minbase bookworm
# gets a clean export of HEAD (git archive) and the TAMS 7.0 spec, runs deps.sh --test, then
# configures and builds, lists every test (ctest -N must name each tests/unit/test_*.c and
# fuzz/fuzz_*.c), collects the API tests (pytest --collect-only, no errors) and imports every
# module that the Python in tests/, bench/ and scripts/ imports. Anything missing fails the check.
#
# Run as root (debootstrap, mount, chroot); CI runs it before the tests (.ci/run). The minimal
# root is cached as a tarball in TAMS_CI_CACHE (default /var/cache/tamsd-ci) and made again when
# that is missing (or with TAMS_CI_REBUILD=1); the packages deps.sh downloads are cached there
# too, so a second run spends its time installing, not downloading.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${TAMS_CI_CACHE:-/var/cache/tamsd-ci}
mirror=${TAMS_CI_MIRROR:-http://deb.debian.org/debian}
tarball=$cache/bookworm-minbase.tar
t0=$SECONDS
say() { printf '== fresh root: %s (%d s)\n' "$*" $((SECONDS - t0)); }

if [ "$(id -u)" != 0 ]; then
  echo "fresh-root-check.sh: run as root (debootstrap, mount, chroot)" >&2
  exit 2
fi
./scripts/deps.sh # cmake, to find the spec the same way the build does
if ! dpkg-query -W -f='${Status}' debootstrap 2>/dev/null | grep -q "install ok installed"; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap \
    >/dev/null
fi
spec=$(./scripts/spec-dir.sh) || exit 1
spec82=$(./scripts/spec-dir.sh 8.2) || exit 1
mkdir -p "$cache/apt-archives/partial"

root=$(mktemp -d /var/tmp/tamsd-fresh-root.XXXXXX)
chmod 755 "$root" # mktemp's 0700 would keep _apt and postgres out of the root's /
mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
  done
  # Never delete through a mount that is still there (the bind-mounted /dev, the package cache).
  if grep -q " $root/" /proc/mounts; then
    echo "fresh-root-check.sh: $root still has mounts; left in place" >&2
  else
    rm -rf "$root"
  fi
}
trap cleanup EXIT
mnt() { # mount ARGS... TARGET: mount and remember TARGET for cleanup
  mount "$@"
  mounted+=("${@: -1}")
}

if [ -s "$tarball" ] && [ "${TAMS_CI_REBUILD:-0}" != 1 ]; then
  tar -C "$root" -xf "$tarball"
  chmod 755 "$root"
  say "minimal root unpacked from $tarball"
else
  say "debootstrap --variant=minbase bookworm (no cached root)"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
    tail -20 "$cache/debootstrap.log" >&2
    exit 1
  }
  tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  say "minimal root made and cached in $tarball"
fi

# What a fresh Debian 12 machine has beside the root itself: its archives, a resolver, and no
# daemons started by package scripts (postgresql would start a cluster in the chroot).
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mnt -t proc proc "$root/proc"
mnt --bind /dev "$root/dev"
mnt --bind /dev/pts "$root/dev/pts"
mnt --bind "$cache/apt-archives" "$root/var/cache/apt/archives"

# A clean export of what is committed (HEAD, or the commit TAMS_CI_REV names), and the spec the
# submodule would hold.
rev=${TAMS_CI_REV:-HEAD}
mkdir -p "$root/src/tamsd" "$root/src/tams-spec" "$root/src/tams-spec82"
git archive --format=tar "$rev" | tar -C "$root/src/tamsd" -x
cp -r "$spec/." "$root/src/tams-spec/"
cp -r "$spec82/." "$root/src/tams-spec82/"
say "$rev ($(git rev-parse --short "$rev")) and the specs copied in"

chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  TAMS_SPEC_DIR=/src/tams-spec TAMS_SPEC82_DIR=/src/tams-spec82 T0=$((SECONDS - t0)) /bin/bash -euo pipefail -c '
say() { printf "== fresh root: %s (%d s)\n" "$*" $((T0 + SECONDS)); }
cd /src/tamsd
./scripts/deps.sh --test
say "deps.sh --test done"
cmake -S . -B build -DTAMS_DEVELOPER=ON >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
say "configured and built"

listed=$(cd build && ctest -N)
missing=0
for f in tests/unit/test_*.c fuzz/fuzz_*.c; do
  name=$(basename "$f" .c)
  # The store contract tests run once per back end (CMakeLists.txt).
  case $f in
    tests/unit/test_store*) want="unit/store_sqlite/$name unit/store_pg/$name" ;;
    tests/*) want="unit/$name" ;;
    *) want="fuzz/$name" ;;
  esac
  for w in $want; do
    grep -q "Test *#[0-9]*: $w\$" <<<"$listed" && continue
    echo "ctest -N does not list $w" >&2
    missing=1
  done
done
[ $missing = 0 ]
say "ctest -N lists $(grep -c "Test *#" <<<"$listed") tests"

# -n 0: the option exists only with pytest-xdist, which test.sh runs the API tests with.
out=$(TAMSD_BIN=$PWD/build/tamsd /usr/bin/python3 -m pytest --collect-only -q -p no:cacheprovider \
      -n 0 tests/api 2>&1) || { echo "$out" >&2; exit 1; }
if grep -qi "error" <<<"$(tail -3 <<<"$out")"; then echo "$out" >&2; exit 1; fi
say "pytest --collect-only: $(tail -1 <<<"$out")"

# Every module the Python in tests/, bench/ and scripts/ imports (importorskip too), imported here:
# a skipped test or a bench script must not hide a missing package either.
/usr/bin/python3 - tests bench scripts <<"EOF"
import ast, importlib, pathlib, sys
local = {p.stem for d in sys.argv[1:] for p in pathlib.Path(d).rglob("*.py")}
local |= {p.parent.name for d in sys.argv[1:] for p in pathlib.Path(d).rglob("__init__.py")}
mods = {}
for d in sys.argv[1:]:
    for p in pathlib.Path(d).rglob("*.py"):
        for n in ast.walk(ast.parse(p.read_text(), str(p))):
            names = []
            if isinstance(n, ast.Import):
                names = [a.name for a in n.names]
            elif isinstance(n, ast.ImportFrom) and n.module and not n.level:
                names = [n.module]
            elif (isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "importorskip"
                  and n.args and isinstance(n.args[0], ast.Constant)):
                names = [n.args[0].value]
            for m in names:
                if m.split(".")[0] not in local:
                    mods.setdefault(m, str(p))
bad = []
for m, where in sorted(mods.items()):
    try:
        importlib.import_module(m)
    except ImportError as e:
        bad.append(f"{where}: import {m}: {e}")
ok = f"== fresh root: all {len(mods)} modules imported by tests/, bench/ and scripts/ import"
print("\n".join(bad) or ok, file=sys.stderr if bad else sys.stdout)
sys.exit(1 if bad else 0)
EOF
'
say "passed"
