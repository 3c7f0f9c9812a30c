#!/usr/bin/env bash
# The reference tutorial (assign-ip-addresses-topology.md) on blockd's embedded store:
# start from Calico's default /16 pool, delete it, label four nodes in two racks, create a pool
# per rack, start five workloads, and show where their addresses came from.
# Needs a fresh Debian 12 machine and root (it installs build dependencies with apt-get).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
here="$top/examples/rack-tutorial"
bash "$top/tests/install-deps.sh"
cmake -S "$top" -B "$top/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" --target blockctl >/dev/null

work=$(mktemp -d /tmp/blockd-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
export BLOCKD_DATASTORE="sqlite://$work/blockd.db"
blockctl() { "$top/build/agent/blockctl" "$@"; }
say() { printf '\n$ %s\n' "$*"; }

say "blockctl create -f default-pool.yaml   # what a fresh install has"
blockctl create -f "$here/default-pool.yaml"
blockctl create -f "$here/nodes.yaml" >/dev/null
say "blockctl get ippool -o wide"
blockctl get ippool -o wide

say "blockctl delete ippools default-ipv4-ippool"
blockctl delete ippools default-ipv4-ippool
for n in 0 1 2 3; do
  rack=$((n / 2))
  say "blockctl label nodes kube-node-$n rack=$rack"
  blockctl label nodes "kube-node-$n" "rack=$rack"
done
for r in 0 1; do
  say "blockctl create -f rack-$r-ippool.yaml"
  blockctl create -f "$here/rack-$r-ippool.yaml"
done
say "blockctl get ippool -o wide"
blockctl get ippool -o wide

say "five nginx workloads, one or two per node"
for w in prx4z:0 s7qw6:1 w7r7g:2 62lnf:3 pnsvv:2; do
  name="nginx-5c7588df-${w%:*}"
  node="kube-node-${w#*:}"
  printf '%-22s on %s: %s\n' "$name" "$node" "$(blockctl ipam allocate --node "$node" --handle "$name")"
done
say "blockctl get workloads -o wide"
blockctl get workloads -o wide
say "blockctl ipam show --show-blocks"
blockctl ipam show --show-blocks
say "blockctl ipam check"
blockctl ipam check
