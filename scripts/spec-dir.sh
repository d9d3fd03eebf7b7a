#!/usr/bin/env bash
# spec-dir.sh - print the folder of the TAMS 7.0 spec the tests load, as cmake/TamsSpec.cmake
# finds it: TAMS_SPEC_DIR, else the submodule spec/tams, else a sibling ../shared/spec/tams-7.0.
# When there is none, fetch the submodule once (at most 30 s, never a password prompt) and look
# again; when there is still none, say in one line on stderr how to get it, and exit 1.
set -euo pipefail
cd "$(dirname "$0")/.."
if dir=$(cmake -P cmake/TamsSpec.cmake 2>/dev/null); then
  echo "$dir"
  exit 0
fi
if [ -z "${TAMS_SPEC_DIR:-}" ]; then # a folder that was named but is wrong is not fetched over
  echo "== fetching the TAMS 7.0 spec (git submodule update --init spec/tams)" >&2
  GIT_TERMINAL_PROMPT=0 timeout 30 git submodule update --init spec/tams >/dev/null 2>&1 ||
    echo "   git submodule update failed (no network?)" >&2
  if dir=$(cmake -P cmake/TamsSpec.cmake 2>/dev/null); then
    echo "$dir"
    exit 0
  fi
fi
echo "$dir" >&2
exit 1
