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
# pytest-xdist runs the API tests in parallel (scripts/test.sh).
test_pkgs=(python3 python3-pytest python3-pytest-xdist python3-requests python3-jsonschema
           python3-botocore python3-yaml python3-cryptography
           clang libclang-rt-14-dev clang-format curl postgresql postgresql-client gnuplot-nox
           # tests/api/test_hls.py and test_client.py make H.264/AAC media with ffmpeg and check it
           # with ffprobe.
           ffmpeg
           # tests/api/test_ui.py drives the web interface in headless Chromium (python3-selenium,
           # chromium-driver) over segments that ffmpeg makes too; its player needs hls.js (npm,
           # below).
           chromium chromium-driver python3-selenium
           # tests/deploy/test_prometheus.py and test_grafana.py: promtool (rule unit tests, and a
           # real Prometheus scraping tamsd) and amtool (check-config).
           prometheus prometheus-alertmanager
           # tests/deploy/test_image.py builds the container image with scripts/image.sh (podman,
           # or buildah; runc because crun cannot set rlimits in CI's sandbox; debootstrap makes
           # the Debian base when no registry answers) and runs it; test_systemd.py runs
           # systemd-analyze (systemd).
           podman buildah runc debootstrap systemd)
# tests/deploy/test_k8s.py runs the pinned kubernetes-models schema validation with Node.js and
# npm (deploy/k8s/test/package.json, npm ci): installed below with --test, like web/'s hls.js.
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
    --ui) ;; # npm for hls.js, below
    *) echo "deps.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

# The web interface's player needs hls.js, pinned in web/package-lock.json and fetched by npm.
# The build works without it (the interface then says that playback needs it), so npm is
# installed only for --test and --ui; a plain run fetches hls.js whenever npm is already there.
# Debian's npm conflicts with a nodejs that bundles its own npm (NodeSource): only install
# them when there is no npm at all.
want_npm=0
for arg in "$@"; do
  case "$arg" in --test|--ui) want_npm=1 ;; esac
done
if [ $want_npm = 1 ] && ! command -v npm >/dev/null; then
  pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# tests/deploy/test_k8s.py renders the manifests with kubectl: any kubectl will do (the
# kubectl package, v1.32, where a repository has it); Debian 12's archive has only
# kubernetes-client (kubectl 1.20), so that is what a machine without one gets.
for arg in "$@"; do
  if [ "$arg" = --test ] && ! command -v kubectl >/dev/null; then
    missing+=(kubernetes-client)
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# hls.js into web/node_modules, exactly as locked, when npm is there and it is missing or stale.
web="$(cd "$(dirname "$0")/.." && pwd)/web"
if command -v npm >/dev/null && [ -f "$web/package-lock.json" ]; then
  if ! cmp -s "$web/package-lock.json" "$web/node_modules/.tamsd-lock" 2>/dev/null; then
    echo "deps.sh: npm ci in web/ (hls.js for the web interface's player)"
    (cd "$web" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error &&
      cp package-lock.json node_modules/.tamsd-lock) ||
      echo "deps.sh: npm ci failed: tamsd builds without hls.js and its web interface cannot play" >&2
  fi
elif [ ! -d "$web/node_modules/hls.js" ]; then
  echo "deps.sh: no npm: the web interface is built without hls.js (scripts/deps.sh --ui fetches it)" >&2
fi
