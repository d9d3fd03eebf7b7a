#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fuzz.sh - build the libFuzzer targets (libraries instrumented, ASan + UBSan) and run each one
# in turn for a fixed time on a scratch copy of its committed corpus (fuzz/corpus/<name>), then
# print a table per target: run time, executions, executions per second, final coverage (cov:
# edges, ft: features), the corpus it grew, and the execution at which cov and ft last grew
# (second of the run and execution number; a figure near the start of the run means coverage was
# stable long before the end).
#
# Usage: scripts/fuzz.sh [SECONDS] [NAME...]
#   SECONDS  per target, default 600; NAME: json_body, query, range, ... (default: all of fuzz/)
# Environment:
#   FUZZ_BUILD  build directory, default build-fuzz (configured here if needed)
#   FUZZ_WORK   scratch directory for corpora, logs and crash files, default /tmp/tamsd-fuzz
#   FUZZ_RESUME 1: start from the corpus the last run left in FUZZ_WORK (plus the committed one),
#               to run a target longer in several sittings
#   FUZZ_MERGE  1: merge what each run found into fuzz/corpus/<name> (-merge=1 keeps only inputs
#               that add coverage); review and commit the new files yourself
# Exit status 1 when a target crashed, leaked or timed out: its input is in $FUZZ_WORK/<name>/
# (crash-*, leak-*, timeout-*). Fix the bug, then add the input to fuzz/corpus/<name>/.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-600}
shift || true
build=${FUZZ_BUILD:-build-fuzz}
work=${FUZZ_WORK:-/tmp/tamsd-fuzz}
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.c; do n=${f#fuzz/fuzz_}; names+=("${n%.c}"); done
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang cmake -S . -B "$build" -DTAMS_FUZZ=ON -DTAMS_SANITIZE=ON -DTAMS_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${names[@]}") >/dev/null

# Inputs longer than libFuzzer's default 4096 bytes where a limit needs them: 4097 members of
# one object take 20 KiB.
max_len() {
  case $1 in
  json_body) echo 32768 ;;
  *) echo 4096 ;;
  esac
}

mkdir -p "$work"
failed=0
printf '| target | seconds | execs | execs/s | cov | ft | corpus | cov last grew | ft last grew |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---|---|\n'
for n in "${names[@]}"; do
  dir="$work/$n"
  if [ "${FUZZ_RESUME:-0}" != 1 ]; then
    rm -rf "$dir"
  fi
  rm -f "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*
  mkdir -p "$dir/corpus"
  cp fuzz/corpus/"$n"/* "$dir/corpus/"
  log="$dir/log"
  start=$(date +%s)
  set +e
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz_$n" -max_total_time="$secs" -timeout=10 -max_len="$(max_len "$n")" \
    -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" 2>&1 |
    while IFS= read -r line; do
      printf -v now '%(%s)T' -1
      printf '%d %s\n' "$((now - start))" "$line"
    done >"$log"
  rc=${PIPESTATUS[0]}
  set -e
  took=$(($(date +%s) - start))
  # "SECS #123  NEW  cov: 45 ft: 60 corp: 10/200b ..." lines (each prefixed with the second of
  # the run it was printed in): the last growth of each figure, as execution and second.
  read -r execs cov ft corp cov_at ft_at cov_s ft_s < <(awk '
    $2 ~ /^#[0-9]+/ {
      n = substr($2, 2) + 0
      for (i = 3; i < NF; i++) {
        if ($i == "cov:") c = $(i + 1) + 0
        if ($i == "ft:") f = $(i + 1) + 0
        if ($i == "corp:") { split($(i + 1), a, "/"); k = a[1] }
      }
      if (c > maxc) { maxc = c; cat = n; cs = $1 }
      if (f > maxf) { maxf = f; fat = n; fs = $1 }
      last = n
    }
    $2 == "stat::number_of_executed_units:" { last = $3 }
    END { printf "%d %d %d %d %d %d %d %d\n", last, c, f, k, cat, fat, cs, fs }' "$log")
  rate=$((execs / (took > 0 ? took : 1)))
  printf '| %s | %d | %d | %d | %d | %d | %d | %d s (#%d) | %d s (#%d) |\n' \
    "$n" "$took" "$execs" "$rate" "$cov" "$ft" "$corp" "$cov_s" "$cov_at" "$ft_s" "$ft_at"
  if [ "$rc" != 0 ]; then
    failed=1
    echo "fuzz_$n failed ($rc): $(ls "$dir" | grep -E '^(crash|leak|timeout|oom)-' | head -1)" \
      "- see $log" >&2
  elif [ "${FUZZ_MERGE:-0}" = 1 ]; then
    "$build/fuzz_$n" -merge=1 -max_len="$(max_len "$n")" fuzz/corpus/"$n" "$dir/corpus" \
      >>"$log" 2>&1
  fi
done
exit $failed
