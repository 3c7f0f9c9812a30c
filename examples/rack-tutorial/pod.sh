#!/usr/bin/env bash
# pod.sh add|del NAME [--ipv6]: a workload as Kubernetes would make it on this node: a network
# namespace attached with the CNI ptp plugin, its address from blockd-ipam (blockd's socket).
# add prints the workload's IPv4 address; with --ipv6 (dual-stack: the ipam section asks for
# "ipv6": true as well) it prints the IPv4 address, then the IPv6 one on a second line.
# Under clab-netns all namespaces share one host, so the workload's namespace is named after
# the node's (CLAB_NETNS-NAME); in a container it is just NAME.
set -euo pipefail
cmd=${1:?usage: pod.sh add|del NAME [--ipv6]} name=${2:?usage: pod.sh add|del NAME [--ipv6]}
ipv6=false
case ${3:-} in
  '') ;;
  --ipv6) ipv6=true ;;
  *) echo "pod.sh: unknown option $3 (--ipv6)" >&2; exit 1 ;;
esac
ns="${CLAB_NETNS:+$CLAB_NETNS-}$name"
# The CNI plugin: on PATH (the netns runtime puts the build folder first), else where the
# package installs it (a container from the lab image).
ipam=$(command -v blockd-ipam || echo /usr/lib/cni/blockd-ipam)
[ -x "$ipam" ] || { echo "pod.sh: no blockd-ipam on PATH or in /usr/lib/cni" >&2; exit 2; }
# Behind VXLAN the pod's MTU is the VXLAN device's (the uplink's less the 50-byte VXLAN
# header), as Calico sets veth MTUs: a 1500-byte pod packet would not fit in one encapsulated
# frame. Without the device (native routing) ptp keeps its default.
mtu=$(ip -o link show dev vxlan.blockd 2>/dev/null | sed -n 's/.* mtu \([0-9]*\) .*/\1/p' || true)
cni() {
  printf '{"cniVersion":"1.0.0","name":"blocknet","type":"ptp","ipMasq":false,%s"ipam":{"type":"blockd-ipam","socket":"%s","ipv6":%s}}' \
    "${mtu:+\"mtu\":$mtu,}" /run/blockd/blockd.sock "$ipv6" |
    env CNI_COMMAND="$1" CNI_CONTAINERID="$name" CNI_NETNS="/var/run/netns/$ns" CNI_IFNAME=eth0 \
      CNI_PATH="/usr/lib/cni:$(dirname "$ipam")" /usr/lib/cni/ptp
}
case $cmd in
  add)
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    if ! out=$(cni ADD); then
      echo "pod.sh: CNI ADD of $name failed: $out" >&2
      cni DEL >/dev/null 2>&1 || true
      ip netns del "$ns"
      exit 1
    fi
    ip -n "$ns" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1
    [ "$ipv6" = false ] || ip -n "$ns" -6 -o addr show dev eth0 scope global | awk '{print $4}' | cut -d/ -f1
    ;;
  del)
    cni DEL >/dev/null
    ip netns del "$ns" 2>/dev/null || true
    ;;
  *) echo "pod.sh: unknown command $cmd (add|del)" >&2; exit 1 ;;
esac
