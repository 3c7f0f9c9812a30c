# The dual-stack rack tutorial's steps against the deployed rack-dualstack lab; sourced by lab.sh
# and by tests/e2e/lab/rack_dualstack.sh. Reuses ../rack-tutorial/tutorial.sh (wait_sessions)
# and examples/lab-lib.sh (on, blockctl, birdc, `tutorial_steps --ipv6` with the tutorial's IPv4
# pool files and this folder's IPv6 ones). Needs: $topo (the .clab.yml); optional $lab_name.
ipv6_pools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$ipv6_pools_dir/../rack-tutorial/tutorial.sh"
# Two sessions per node at the router: kube_node_N (IPv4) and kube_node_N_v6 (IPv6).
sessions=8

# dualstack_summary: per family, workloads, routes at the ToR, and what a /32 (/128)-per-workload
# design would need.
dualstack_summary() {
  local nw v4 v6
  # Pod gateways (handle gateway.<node>.<pool>) are allocations, not workloads.
  nw=$(blockctl get workloads -o json | python3 -c 'import json,sys
ws = [w for w in json.load(sys.stdin) if not w["workload"].startswith(("gateway.", "ipip-tunnel-addr."))]
print(sum(":" not in w["address"] for w in ws), sum(":" in w["address"] for w in ws))')
  v4=$(birdc show route 2>/dev/null | grep -cE '^192\.168\.' || true)
  v6=$(birdc show route 2>/dev/null | grep -cE '^fd00:10:' || true)
  echo "route reduction: IPv4: ${nw% *} workload addresses, $v4 routes at the ToR (a /32 per workload: ${nw% *});" \
    "IPv6: ${nw#* } workload addresses, $v6 routes at the ToR (a /128 per workload: ${nw#* })"
}
