#!/usr/bin/env bash
# deps.sh - install what tamsd needs to build (and, with --test, to run its tests) on Debian 12.
# Idempotent: installs only what is missing. Run as root.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjson-c-dev libsqlite3-dev
            libssl-dev libcurl4-openssl-dev libpq-dev
            libavformat-dev libavcodec-dev libavutil-dev)  # the tams client (src/client/)
# The test suites import pytest, requests, jsonschema, botocore, yaml and cryptography; CI checks
# that this list is enough on a fresh Debian 12 root (scripts/fresh-root-check.sh).
# tests/api/test_stress.py runs bench/stress.sh, which draws its plots with gnuplot (gnuplot-nox
# has the pngcairo terminal).
test_pkgs=(python3 python3-pytest python3-requests python3-jsonschema python3-botocore
           python3-yaml python3-cryptography
           clang libclang-rt-14-dev clang-format curl postgresql postgresql-client gnuplot-nox
           ffmpeg)  # ffmpeg/ffprobe: tests/api/test_client.py makes and checks media with them
# bench/*.sh: wrk, nginx (the load balancer of scaling.sh), gnuplot (stress.sh's plots), a
# throwaway PostgreSQL (pg.sh, scaling.sh, stress.sh --pg), curl and pgrep in the scripts, and
# the S3 test server's botocore (s3_endpoints.sh).
bench_pkgs=(wrk nginx-light gnuplot-nox curl procps postgresql postgresql-client python3
            python3-botocore)

pkgs=("${build_pkgs[@]}")
for arg in "$@"; do
  case "$arg" in
    --test) pkgs+=("${test_pkgs[@]}") ;;
    --bench) pkgs+=("${bench_pkgs[@]}") ;;
    *) echo "deps.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
