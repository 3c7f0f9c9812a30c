// Addresses blockd allocates for a node itself, not for a workload: the VXLAN tunnel address
// (Calico's handle name) and, per pool, the pods' gateway that Debian's ptp needs on-link.
// Counting workloads (route plan, route reduction) leaves these out.
#pragma once

#include <string>

namespace blockd::agent {

inline std::string vtep_handle(const std::string& node) { return "vxlan-tunnel-addr." + node; }
inline std::string gateway_handle(const std::string& node, const std::string& pool) {
  return "gateway." + node + "." + pool;
}
inline bool is_node_handle(const std::string& handle) {
  return handle.starts_with("vxlan-tunnel-addr.") || handle.starts_with("gateway.");
}

}  // namespace blockd::agent
