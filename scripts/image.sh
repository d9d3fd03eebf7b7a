#!/usr/bin/env bash
# image.sh - build the tamsd container image (deploy/container/Containerfile) with podman, or
# buildah when podman is missing.
#
#   scripts/image.sh [TAG]          TAG defaults to localhost/tamsd:latest
#
# TAMS_IMAGE_TOOL=buildah uses buildah even where podman is installed.
# The Debian 12 base: TAMS_IMAGE_BASE names one to use as it is; otherwise
# docker.io/library/debian:bookworm-slim when a registry answers, else a minimal root made here
# (debootstrap --variant=minbase bookworm, or the tarball scripts/fresh-root-check.sh caches in
# TAMS_CI_CACHE, default /var/cache/tamsd-ci) imported as localhost/tamsd-base:bookworm and kept
# for the next build. When CONTAINERS_CONF is not set, deploy/container/containers.conf is used
# (runc, and rlimits this kind of sandbox allows). Run as root. Prints the image id last.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${1:-localhost/tamsd:latest}
cache=${TAMS_CI_CACHE:-/var/cache/tamsd-ci}
mirror=${TAMS_CI_MIRROR:-http://deb.debian.org/debian}
local_base=localhost/tamsd-base:bookworm
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/deploy/container/containers.conf}
t0=$SECONDS
say() { printf '== image: %s (%d s)\n' "$*" $((SECONDS - t0)) >&2; }

if [ -n "${TAMS_IMAGE_TOOL:-}" ]; then
  tool=$TAMS_IMAGE_TOOL # podman or buildah
elif command -v podman >/dev/null; then
  tool=podman
elif command -v buildah >/dev/null; then
  tool=buildah
else
  echo "image.sh: needs podman or buildah (apt-get install podman)" >&2
  exit 2
fi

exists() { # image name -> status
  if [ $tool = podman ]; then podman image exists "$1"; else buildah inspect "$1" >/dev/null 2>&1; fi
}

# The minimal Debian 12 root, from the cache or made now, imported as $local_base.
import_minbase() {
  local tarball=$cache/bookworm-minbase.tar root
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || {
      echo "image.sh: no registry and no debootstrap (apt-get install debootstrap)" >&2
      exit 1
    }
    mkdir -p "$cache"
    root=$(mktemp -d /var/tmp/tamsd-image-root.XXXXXX)
    say "debootstrap --variant=minbase bookworm (no cached root)"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
      tail -20 "$cache/debootstrap.log" >&2
      rm -rf "$root"
      exit 1
    }
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  say "importing $tarball as $local_base"
  if [ $tool = podman ]; then
    podman import --change 'CMD ["/bin/bash"]' "$tarball" "$local_base" >/dev/null
  else
    local c
    c=$(buildah from scratch)
    buildah add "$c" "$tarball" / >/dev/null
    buildah commit "$c" "$local_base" >/dev/null
    buildah rm "$c" >/dev/null
  fi
}

if [ -n "${TAMS_IMAGE_BASE:-}" ]; then
  base=$TAMS_IMAGE_BASE
elif exists "$local_base"; then
  base=$local_base
elif timeout 30 $tool pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
  base=docker.io/library/debian:bookworm-slim
else
  say "no registry answers: making the base"
  import_minbase
  base=$local_base
fi

# hls.js for the web interface's player, fetched here (deps.sh: npm ci in web/, exactly as
# locked) rather than in the build, where the registry's certificates may not be trusted.
if [ ! -s web/node_modules/hls.js/dist/hls.min.js ]; then
  say "fetching hls.js (scripts/deps.sh --ui)"
  ./scripts/deps.sh --ui >&2
fi
[ -s web/node_modules/hls.js/dist/hls.min.js ] ||
  say "no hls.js: the image's web interface plays only where the browser has HLS of its own"
say "building $tag on $base with $tool"
# --format docker keeps HEALTHCHECK (the OCI format has no field for it); the host's network
# for the RUN steps' apt-get, so no container network stack (bridge, iptables) is needed.
$tool build --format docker --network host --build-arg BASE="$base" \
  -f deploy/container/Containerfile \
  -t "$tag" . >&2
say "built $tag"
if [ $tool = podman ]; then podman image inspect -f '{{.Id}}' "$tag"; else buildah inspect -f '{{.FromImageID}}' "$tag"; fi
