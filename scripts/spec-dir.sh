#!/usr/bin/env bash
# spec-dir.sh [VERSION] - print the folder of the TAMS spec the tests load for VERSION (7.0, the
# default, or 8.2), as cmake/TamsSpec.cmake finds it: its variable (TAMS_SPEC_DIR,
# TAMS_SPEC82_DIR), else its submodule (spec/tams, spec/tams-8.2), else a sibling
# ../shared/spec/tams-VERSION. When there is none, fetch the submodule once (at most 30 s, never
# a password prompt) and look again; when there is still none, say in one line on stderr how to
# get it, and exit 1.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-7.0}
case $version in
  7.0) var=TAMS_SPEC_DIR sub=spec/tams ;;
  8.2) var=TAMS_SPEC82_DIR sub=spec/tams-8.2 ;;
  *) echo "spec-dir.sh: no TAMS spec version '$version' (7.0 or 8.2)" >&2; exit 2 ;;
esac
find_it() { cmake -DTAMS_SPEC_VERSION="$version" -P cmake/TamsSpec.cmake 2>/dev/null; }
if dir=$(find_it); then
  echo "$dir"
  exit 0
fi
if [ -z "${!var:-}" ]; then # a folder that was named but is wrong is not fetched over
  echo "== fetching the TAMS $version spec (git submodule update --init $sub)" >&2
  GIT_TERMINAL_PROMPT=0 timeout 30 git submodule update --init "$sub" >/dev/null 2>&1 ||
    echo "   git submodule update failed (no network?)" >&2
  if dir=$(find_it); then
    echo "$dir"
    exit 0
  fi
fi
echo "$dir" >&2
exit 1
