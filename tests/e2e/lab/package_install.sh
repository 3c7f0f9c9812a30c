#!/usr/bin/env bash
# blockd's Debian package as a new node gets it: in a clean Debian 12 container (the labs' base
# image, made from Debian's archive by tests/lab/lab-image.sh: nothing of blockd's installed),
#   1. `apt-get install ./blockd_<version>_amd64.deb` succeeds with nothing installed first
#      (apt-get update only: the package's Depends come from the archive);
#   2. `blockd --version` and `blockctl --version` print the package's version;
#   3. `dpkg -L blockd` lists the CNI plugin in the CNI folder (/usr/lib/cni/blockd-ipam);
#   4. `apt-get purge --autoremove blockd` leaves the file system as it was before the install,
#      but for what the user created (a file of theirs in /etc/blockd and one in /root).
# The package comes from BUILD_DIR's `package` target (BLOCKD_DEB=FILE: that one). Needs root and Docker (started if none
# answers, stopped again). Usage: package_install.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: package_install.sh BUILD_DIR}" && pwd)
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/tests/e2e/lib.sh"
. "$top/tests/lab/docker-daemon.sh"
bash "$top/tests/lab/lab-image.sh" "$build" --base-only >/dev/null || fail "the base image"
docker_up || fail "no Docker daemon"
name=blockd-package-$$ pkg=$(mktemp -d /tmp/blockd-package-$$.XXXXXX)
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$pkg"; docker_down' EXIT

if [ -n "${BLOCKD_DEB:-}" ]; then
  deb=$BLOCKD_DEB   # a package made before (a release's), instead of this build's
else
  cmake --build "$build" -j2 --target package >/dev/null || fail "cmake --build $build --target package"
  deb=$(ls -t "$build"/blockd_*_amd64.deb 2>/dev/null | head -n1)
fi
[ -f "$deb" ] || fail "no blockd_*_amd64.deb in $build after its package target"
version=$(basename "$deb" | sed 's/^blockd_\(.*\)_amd64\.deb$/\1/')
cp "$deb" "$pkg/"
echo "package $(basename "$deb") (version $version)"

docker run -d --name "$name" -v "$pkg:/pkg:ro" blockd-lab/debian:12 sleep infinity >/dev/null
in_c() { docker exec -e DEBIAN_FRONTEND=noninteractive "$name" "$@"; }
# Every path of the container's own file system, but for what apt and the kernel churn anyway.
listing() {
  in_c find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /pkg \
    -o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/log \) -prune -o -print | sort
}
in_c apt-get update -qq >/dev/null || fail "apt-get update in the clean container"
listing >"$pkg/before"

# 1. Install with nothing else first.
in_c sh -c 'cd /pkg && apt-get install -y -qq ./blockd_*_amd64.deb' >"$pkg/install.log" 2>&1 ||
  { tail -n 30 "$pkg/install.log"; fail "apt-get install ./$(basename "$deb") in a clean Debian 12"; }
echo "ok: apt-get install ./$(basename "$deb") in a clean Debian 12 container"

# 2. Versions.
for prog in blockd blockctl; do
  out=$(in_c "$prog" --version) || fail "$prog --version"
  case $out in *"${version%%[-~+]*}"*) echo "ok: $prog --version: $out" ;; *) fail "$prog --version printed '$out', not version $version" ;; esac
done

# 3. The CNI plugin where CNI runtimes look.
in_c dpkg -L blockd | grep -qx /usr/lib/cni/blockd-ipam || fail "dpkg -L blockd has no /usr/lib/cni/blockd-ipam"
in_c test -x /usr/lib/cni/blockd-ipam || fail "/usr/lib/cni/blockd-ipam is not executable"
echo "ok: dpkg -L blockd lists /usr/lib/cni/blockd-ipam"

# 4. Purge: only the user's files stay.
in_c sh -c 'mkdir -p /etc/blockd && echo "# mine" >/etc/blockd/site-notes.txt && echo mine >/root/pods.txt'
in_c apt-get purge -y -qq --autoremove blockd >"$pkg/purge.log" 2>&1 || { tail -n 30 "$pkg/purge.log"; fail "apt-get purge blockd"; }
listing >"$pkg/after"
expect_eq "$(comm -13 "$pkg/before" "$pkg/after")" "/etc/blockd
/etc/blockd/site-notes.txt
/root/pods.txt" "after apt-get purge --autoremove blockd only the user's files (and their folder) are new"
expect_eq "$(comm -23 "$pkg/before" "$pkg/after")" "" "nothing that was there before the install is gone"
echo "PASS package_install"
