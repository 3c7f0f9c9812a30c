#!/usr/bin/env bash
# Calico's BGP policy resources end to end, in one lab (issue 19): blockd in a node namespace
# peers with BIRD 2 in one ToR namespace and FRR in another. Asserts:
#   1. communities: the node's block (in a prefixAdvertisements CIDR) carries the standard and
#      the large community at both ToRs (birdc show route all, vtysh show bgp ... json), the
#      service CIDR its well-known no-export;
#   2. service addresses: serviceClusterIPs, serviceExternalIPs and serviceLoadBalancerIPs CIDRs
#      are advertised;
#   3. BGPFilter export: the CIDR the BIRD peer's filter rejects is at FRR but not at BIRD, and
#      the one the FRR peer's filter rejects at BIRD but not at FRR;
#   4. BGPFilter import: of two remote blocks BIRD announces, the rejected one is received but
#      never reaches the node's kernel, the other is routed via BIRD; likewise of two FRR
#      announces, under the FRR peer's own import rule;
#      the rules with `interface` match the routes out of the FRR link only;
#   5. ttlSecurity (GTSM): the BIRD session (ttl security on) comes up with it; FRR (ttl-security
#      hops 1) keeps blockd out until the FRR BGPPeer gets ttlSecurity: 1 too, then comes up;
#      once FRR drops its ttl-security (sends TTL 1), blockd drops its packets and the session.
# Usage: bgp_policy_lab.sh BLOCKD BLOCKCTL (root)
set -euo pipefail
BLOCKD=$(realpath "${1:?usage: $0 BLOCKD BLOCKCTL}")
BLOCKCTL=$(realpath "${2:?usage: $0 BLOCKD BLOCKCTL}")
FRR_DAEMONS="zebra bgpd"
. "$(dirname "$0")/../netns_lab.sh"
lab_names "bpl$$"
TOR2="${P}f"

cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then print_logs; fi
  lab_teardown "$TOR2"
  exit $rc
}
trap cleanup EXIT

# BIRD's ToR 10.77.0.1 - node 10.77.0.2; FRR's ToR (TOR2) 10.78.0.1 - node 10.78.0.2.
join_tor_and_node 10.77.0 fd77
ip netns add "$TOR2"
ip link add "${P}c" type veth peer name "${P}d"
ip link set "${P}c" netns "$TOR2"
ip link set "${P}d" netns "$NODE"
ip -n "$TOR2" addr add 10.78.0.1/24 dev "${P}c"
ip -n "$NODE" addr add 10.78.0.2/24 dev "${P}d"
ip -n "$TOR2" link set lo up
ip -n "$TOR2" link set "${P}c" up
ip -n "$NODE" link set "${P}d" up

mkdir -m 700 "$WORK/db"  # FRR needs $WORK open to it; the store stays private
STORE="sqlite://$WORK/db/store.db"
blockctl() { "$BLOCKCTL" --datastore "$STORE" "$@"; }

# Calico's YAML as users write it.
blockctl apply -f - >/dev/null <<'YAML'
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool-0}
spec: {cidr: 192.168.0.0/24, nodeSelector: all()}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool-5}
spec: {cidr: 192.168.5.0/24, nodeSelector: all()}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool-6}
spec: {cidr: 192.168.6.0/24, nodeSelector: all()}
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  serviceClusterIPs:
    - cidr: 10.96.0.0/12
  serviceExternalIPs:
    - cidr: 203.0.113.0/24
  serviceLoadBalancerIPs:
    - cidr: 198.51.100.0/24
  communities:
    - name: rack-large
      value: 65000:1:2
  prefixAdvertisements:
    - cidr: 192.168.0.0/24
      communities:
        - rack-large
        - 65000:100
    - cidr: 10.96.0.0/12
      communities:
        - no-export
---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata:
  name: tor-policy
spec:
  exportV4:
    - action: Reject
      matchOperator: Equal
      cidr: 203.0.113.0/24
  importV4:
    - action: Reject      # routes out of the FRR link (bpl<pid>d): none of BIRD's
      matchOperator: In
      cidr: 192.168.0.0/16
      interface: 'bpl*d'
    - action: Reject
      matchOperator: In
      cidr: 192.168.5.0/24
---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata:
  name: frr-policy
spec:
  exportV4:
    - action: Reject
      matchOperator: In
      cidr: 198.51.100.0/24
  importV4:
    - action: Reject      # only when it comes out of the FRR link (bpl<pid>d), as it does
      matchOperator: In
      cidr: 192.168.6.0/24
      interface: 'bpl*d'
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: bird-tor}
spec:
  peerIP: 10.77.0.1
  asNumber: 65001
  ttlSecurity: 1
  filters: [tor-policy]
  reachableBy: 10.77.0.1
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: frr-tor}
spec: {peerIP: 10.78.0.1, asNumber: 65003, filters: [frr-policy], sourceAddress: None}  # node-0's address is on the BIRD link
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node-1}
spec:
  bgp: {ipv4Address: 10.99.0.5/24}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node-2}
spec:
  bgp: {ipv4Address: 10.99.0.6/24}
YAML

cat >"$WORK/blockd.yaml" <<CONF
node: {name: node-0, address: 10.77.0.2/24, asNumber: 65002}
datastore: $STORE
bgp: {listenPort: 179}
dataplane: {uplink: ${P}b, routeProtocol: 200}
control: {socket: $WORK/blockd.sock, metrics: ""}
log: {level: info}
CONF
ip netns exec "$NODE" "$BLOCKD" --config "$WORK/blockd.yaml" >>"$WORK/blockd.log" 2>&1 &
PIDS+=("$!")
wait_for 20 "node-0 registered" "$BLOCKCTL" --datastore "$STORE" get node node-0
block_of() { python3 -c 'import ipaddress, sys; print(ipaddress.ip_network(sys.argv[1] + "/26", strict=False))' "$1"; }
OWN=$(block_of "$(blockctl ipam allocate --node node-0 --handle pod-a --pool pool-0)")              # this node's block
REMOTE_OK=$(block_of "$(blockctl ipam allocate --node node-1 --handle pod-b --pool pool-0)")        # node-1's, accepted
REMOTE_FILTERED=$(block_of "$(blockctl ipam allocate --node node-1 --handle pod-c --pool pool-5)")  # node-1's, importV4 rejects
FRR_OK=$(block_of "$(blockctl ipam allocate --node node-2 --handle pod-d --pool pool-0)")            # node-2's, accepted
FRR_FILTERED=$(block_of "$(blockctl ipam allocate --node node-2 --handle pod-e --pool pool-6)")      # node-2's, FRR's importV4 rejects
echo "blocks: node-0 $OWN, node-1 $REMOTE_OK and $REMOTE_FILTERED (from BIRD), node-2 $FRR_OK and $FRR_FILTERED (from FRR)"

# BIRD announces node-1's two blocks, as a ToR that learned them from node-1 would.
start_bird "router id 10.77.0.1;
protocol device {}
protocol static { ipv4; route $REMOTE_OK blackhole; route $REMOTE_FILTERED blackhole; }
protocol bgp node { local 10.77.0.1 as 65001; neighbor 10.77.0.2 as 65002; ttl security on;
  ipv4 { import all; export where source = RTS_STATIC; }; }"
birdc_has() { birdc_ show route "$1" | grep -q unicast; }
TOR=$TOR2 start_frr "frr defaults datacenter
hostname tor2
router bgp 65003
 bgp router-id 10.78.0.1
 no bgp ebgp-requires-policy
 neighbor 10.78.0.2 remote-as 65002
 neighbor 10.78.0.2 ttl-security hops 1
 no bgp network import-check
 address-family ipv4 unicast
  network $FRR_OK
  network $FRR_FILTERED
 exit-address-family"
frr_has() { vtysh_ -c "show bgp ipv4 unicast $1 json" | grep -q '"paths"'; }
frr_established() { vtysh_ -c "show bgp neighbors 10.78.0.2 json" | grep -q '"bgpState":"Established"'; }


# 5 (first half): GTSM on both ends of the BIRD session.
wait_for 30 "BIRD session Established (ttlSecurity 1 / ttl security on)" bash -c "birdc -s '$WORK/bird.ctl' show protocols node | grep -q Established"
# FRR (ttl-security hops 1) drops blockd's packets until the BGPPeer asks for GTSM too.
sleep 6
frr_established && fail "FRR took blockd's packets although their TTL is not 255 (no ttlSecurity yet)"
echo "ok: FRR's GTSM keeps blockd out while frr-tor has no ttlSecurity"
blockctl apply -f - >/dev/null <<'YAML'
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: frr-tor}
spec: {peerIP: 10.78.0.1, asNumber: 65003, ttlSecurity: 1, filters: [frr-policy], sourceAddress: None}
YAML
wait_for 30 "FRR session Established once frr-tor has ttlSecurity: 1" frr_established

# 1. and 2. Communities and service CIDRs at both ToRs.
wait_for 20 "$OWN at BIRD" birdc_has "$OWN"
wait_for 20 "$OWN at FRR" frr_has "$OWN"
wait_for 20 "10.96.0.0/12 (serviceClusterIPs) at BIRD" birdc_has 10.96.0.0/12
wait_for 20 "10.96.0.0/12 (serviceClusterIPs) at FRR" frr_has 10.96.0.0/12
wait_for 20 "203.0.113.0/24 (serviceExternalIPs) at FRR" frr_has 203.0.113.0/24
wait_for 20 "198.51.100.0/24 (serviceLoadBalancerIPs) at BIRD" birdc_has 198.51.100.0/24
bird_all=$(birdc_ show route all "$OWN")
echo "$bird_all"
grep -q "BGP.community: (65000,100)" <<<"$bird_all" || fail "BIRD: $OWN lacks community (65000,100)"
grep -q "BGP.large_community: (65000, 1, 2)" <<<"$bird_all" || fail "BIRD: $OWN lacks large community (65000, 1, 2)"
birdc_ show route all 10.96.0.0/12 | grep -q "BGP.community: (65535,65281)" || fail "BIRD: 10.96.0.0/12 lacks no-export (65535,65281)"
check_frr() {  # PREFIX COMMUNITIES LARGE: FRR's path carries exactly these
  vtysh_ -c "show bgp ipv4 unicast $1 json" | python3 -c '
import json, sys
path = json.load(sys.stdin)["paths"][0]
got = (path.get("community", {}).get("string", ""), path.get("largeCommunity", {}).get("string", ""))
want = (sys.argv[1], sys.argv[2])
print("FRR", sys.argv[3], "communities", got)
sys.exit(0 if got == want else 1)' "$2" "$3" "$1" || fail "FRR: $1 should carry '$2' / '$3'"
}
check_frr "$OWN" "65000:100" "65000:1:2"
check_frr 10.96.0.0/12 "no-export" ""
check_frr 203.0.113.0/24 "" ""
echo "ok: communities on the advertised routes at BIRD and FRR"

# 3. Export filter: 203.0.113.0/24 went to FRR, never to BIRD.
birdc_has 203.0.113.0/24 && fail "BIRD has 203.0.113.0/24, which tor-policy's exportV4 rejects"
frr_has 198.51.100.0/24 && fail "FRR has 198.51.100.0/24, which frr-policy's exportV4 rejects"
echo "ok: 203.0.113.0/24 filtered from BIRD, advertised to FRR; 198.51.100.0/24 filtered from FRR, advertised to BIRD"

# 4. Import filter: of the two blocks each ToR announces, both are received and only the accepted
# one is routed, via that ToR.
routed_via() { ip -n "$NODE" route show "$2" proto 200 | grep -q "via $1"; }
# check_import TOR_NAME TOR_ADDRESS ACCEPTED REJECTED FILTER
check_import() {
  wait_for 20 "$3 routed via $1 in the node's kernel" routed_via "$2" "$3"
  local received
  received=$("$BLOCKCTL" routes received --socket "$WORK/blockd.sock" -o json)
  grep -q "$4" <<<"$received" || fail "blockd did not receive $4 from $1"
  ip -n "$NODE" route show "$4" | grep -q . && fail "$4 is in the node's kernel although $5's importV4 rejects it"
  echo "ok: $4 received from $1 but not installed ($5's importV4), $3 installed via $1"
}
check_import BIRD 10.77.0.1 "$REMOTE_OK" "$REMOTE_FILTERED" tor-policy
check_import FRR 10.78.0.1 "$FRR_OK" "$FRR_FILTERED" frr-policy
echo "ok: BGPFilter interface 'bpl*d' matched the FRR link's routes only"

# BGPPeer reachableBy: a route to the peer via the gateway it names, in blockd's protocol.
ip -n "$NODE" route show 10.77.0.1/32 proto 200 | grep -q "via 10.77.0.1" || fail "no route to bird-tor via its reachableBy"
echo "ok: reachableBy: $(ip -n "$NODE" route show 10.77.0.1/32 proto 200)"

# 5 (second half): blockd's own GTSM. FRR stops sending TTL 255; blockd drops its packets
# (the kernel's TCPMinTTLDrop counts them) and its side of the session ends with the hold
# timer and stays down (FRR alone may still think it is up: it gets blockd's TTL-255 packets).
blockd_has_frr_up() { "$BLOCKCTL" node status --socket "$WORK/blockd.sock" | grep -E '^\| 10\.78\.0\.1 ' | grep -q ' up '; }
min_ttl_drops() { ip netns exec "$NODE" nstat -az TcpExtTCPMinTTLDrop | awk '/TCPMinTTLDrop/ {print $2}'; }
blockd_has_frr_up || fail "blockd's FRR session is not up before the GTSM check"
drops_before=$(min_ttl_drops)
vtysh_ -c "configure terminal" -c "router bgp 65003" -c "no neighbor 10.78.0.2 ttl-security hops 1" >/dev/null
wait_gone 40 "blockd's FRR session (FRR's packets now have TTL 1)" blockd_has_frr_up
sleep 5
blockd_has_frr_up && fail "blockd took the FRR session back although FRR's TTL is 1"
drops_after=$(min_ttl_drops)
[ "$drops_after" -gt "$drops_before" ] || fail "no packet dropped for its TTL ($drops_before -> $drops_after)"
birdc_ show protocols node | grep -q Established || fail "the BIRD session (TTL 255) went down"
echo "ok: GTSM: blockd dropped $((drops_after - drops_before)) TTL-1 packets from FRR and keeps it down; BIRD stays up"
echo "PASS: BGP policy (communities, service CIDRs, BGPFilter export/import and interface, reachableBy, ttlSecurity) at BIRD and FRR"
