// The IPAM handles under which a node holds addresses for itself, not for a workload: its VXLAN
// tunnel address (Calico's IPv4VXLANTunnelAddr, handle "vxlan-tunnel-addr.<node>"), its IPIP
// tunnel address (Calico's IPv4IPIPTunnelAddr, "ipip-tunnel-addr.<node>") and the on-link
// gateway of its pods in each pool ("gateway.<node>.<pool>").
#pragma once

#include <string>

namespace blockd::agent {

inline std::string vtep_handle(const std::string& node) { return "vxlan-tunnel-addr." + node; }
inline std::string ipip_handle(const std::string& node) { return "ipip-tunnel-addr." + node; }

inline std::string gateway_handle(const std::string& node, const std::string& pool) {
  return "gateway." + node + "." + pool;
}

// True when `handle` is one of `node`'s own addresses: these never keep a pool's gateway alive.
inline bool is_node_own(const std::string& handle, const std::string& node) {
  const std::string gateway_prefix = "gateway." + node + ".";
  return handle == vtep_handle(node) || handle == ipip_handle(node) ||
         handle.compare(0, gateway_prefix.size(), gateway_prefix) == 0;
}

// True when `handle` is some node's own address, not a workload's (workload counts leave these out).
inline bool is_node_handle(const std::string& handle) {
  return handle.starts_with("vxlan-tunnel-addr.") || handle.starts_with("ipip-tunnel-addr.") ||
         handle.starts_with("gateway.");
}

}  // namespace blockd::agent
