#!/usr/bin/env bash
# Makes the images the labs run on under Docker (`--runtime docker`), from Debian's archive only:
#   1. the base image blockd-lab/debian:12: `debootstrap --variant=minbase bookworm` from the
#      archive URI in /etc/apt/sources.list*, kept as a tarball in /var/cache/blockd-lab (a second
#      run on this machine reuses it) and `docker import`ed;
#   2. the lab image blockd:dev (examples/rack-tutorial/Dockerfile): BIRD 2, FRR, etcd, the CNI
#      plugins and blockd installed from its Debian package, the one
#      `cmake --build BUILD --target package` makes (never binaries from a build folder).
# Usage: tests/lab/lab-image.sh BUILD_DIR [--base-only]
#   BUILD_DIR: a configured build folder; its `package` target is built first (BLOCKD_DEB=FILE:
#   that package instead).
# Starts dockerd if none answers and leaves it running only if it was running before.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: lab-image.sh BUILD_DIR [--base-only]}
base_only=0
[ "${2:-}" = --base-only ] && base_only=1
cache=${BLOCKD_LAB_CACHE:-/var/cache/blockd-lab}
base_image=blockd-lab/debian:12
. "$top/tests/lab/docker-daemon.sh"
[ "$(id -u)" = 0 ] || { echo "lab-image.sh: run as root (debootstrap, docker)" >&2; exit 1; }
docker_up
trap docker_down EXIT

# The archive this machine installs from (deb822 URIs: or one-line deb entries), else Debian's.
archive_uri() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    awk '{print $2}' | grep -v security | head -n1)
  [ -n "$uri" ] || uri=$(grep -hsE '^deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$2 !~ /^\[/ {print $2} $2 ~ /^\[/ {print $3}' | grep -E 'debian/?$' | head -n1)
  echo "${uri:-http://deb.debian.org/debian}"
}

if ! docker image inspect "$base_image" >/dev/null 2>&1; then
  tarball=$cache/bookworm-minbase.tar
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || { echo "lab-image.sh: debootstrap is not installed" >&2; exit 2; }
    mkdir -p "$cache"
    rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
    echo "lab-image.sh: debootstrap --variant=minbase bookworm from $(archive_uri) (a few minutes, once)"
    start=$SECONDS
    debootstrap --variant=minbase bookworm "$rootfs" "$(archive_uri)" >"$cache/debootstrap.log" 2>&1 ||
      { tail -n 20 "$cache/debootstrap.log" >&2; rm -rf "$rootfs"; exit 2; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
    echo "lab-image.sh: base rootfs cached in $tarball ($((SECONDS - start))s)"
  fi
  docker import "$tarball" "$base_image" >/dev/null
  echo "lab-image.sh: imported $base_image"
fi
[ $base_only = 0 ] || exit 0

# The package, from the build folder's package target (or $BLOCKD_DEB, a package made before).
start=$SECONDS
if [ -n "${BLOCKD_DEB:-}" ]; then
  deb=$BLOCKD_DEB
else
  cmake --build "$build" -j2 --target package >/dev/null
  deb=$(ls -t "$build"/blockd_*_amd64.deb 2>/dev/null | head -n1)
fi
[ -f "$deb" ] || { echo "lab-image.sh: $build has no blockd_*_amd64.deb after its package target" >&2; exit 2; }
echo "lab-image.sh: package $(basename "$deb") ($((SECONDS - start))s)"
context=$(mktemp -d "/tmp/blockd-lab-image.XXXXXX")
trap 'rm -rf "$context"; docker_down' EXIT
cp "$deb" "$context/"
start=$SECONDS
docker build -q --build-arg BASE="$base_image" -t blockd:dev -f "$top/examples/rack-tutorial/Dockerfile" "$context" >/dev/null
echo "lab-image.sh: built blockd:dev ($((SECONDS - start))s)"
