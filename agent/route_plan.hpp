// The RoutePlan (ARCHITECTURE.md, Routes): a pure function of the cluster view, this node and the
// routes learned over BGP, giving what to advertise to the ToR and what the kernel must hold.
//   own affine block        -> advertise the block (adjacent own blocks merged); blackhole
//   address borrowed here   -> advertise the /32 (/128); the CNI plugin routes it to the pod
//   remote block / remote borrowed address -> by the pool's mode (netlink/cross_subnet.hpp):
//     VXLAN: via the remote VTEP on the VXLAN device, onlink, plus its neighbour and FDB entries
//     IPIP:  via the remote node address on the IPIP device, onlink
//     same subnet: direct via the remote node address
//     other subnet: via the next hop learned over BGP (nothing when none was learned); when
//       several peers (two ToRs) sent the longest matching prefix with equal rank
//       (bgp/path_rank.hpp), via all their next hops as one multipath route (ECMP). A next hop
//       that is another node off this node's subnet (a route reflector's or a mesh's) is left
//       to the default route.
// Disabled pools and pools that no longer select this node keep routing their blocks: running
// workloads are never cut off by a pool change.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/cluster_view.hpp"
#include "bgp/export_policy.hpp"
#include "bgp/path_rank.hpp"
#include "ipam/resources/bgp_communities.hpp"
#include "netlink/programmer.hpp"

namespace blockd::agent {

struct ThisNode {
  std::string name;
  ipam::InterfaceAddress address;                  // IPv4 underlay address and subnet
  std::optional<ipam::InterfaceAddress> address_v6;
  std::string ipip_device = "tunl0";
  std::string vxlan_device = "vxlan.blockd";
  // False until this node has its VTEP address and VXLAN device (some VXLAN pool selects it):
  // until then a route via that device would only be refused by the kernel.
  bool has_vxlan_device = true;
};

struct LearnedRoute {
  ipam::Prefix prefix;
  ipam::Address next_hop;
  bgp::PathRank rank;
};

// The next hops to reach `dst` through: of the learned routes whose prefix is the longest that
// contains `dst`, those of the best rank (ties all kept: ECMP), sorted, without duplicates.
// Empty when no learned route covers `dst`.
std::vector<ipam::Address> equal_cost_next_hops(const std::vector<LearnedRoute>& learned, const ipam::Prefix& dst);

struct Advertisement {
  ipam::Prefix prefix;
  // Service: a BGPConfiguration service CIDR (agent/bgp_policy.hpp), advertised by every node.
  enum class Kind { Block, Borrowed, Service } kind = Kind::Block;
  ipam::CommunitySet communities{};  // from spec.prefixAdvertisements (agent/bgp_policy.hpp)
  std::string interface{};  // what BGPFilter `interface` rules match (agent/route_interfaces.hpp)
  friend bool operator==(const Advertisement&, const Advertisement&) = default;
};

struct RoutePlan {
  std::vector<Advertisement> advertise;  // in prefix order
  netlink::DesiredState kernel;
  std::size_t local_workloads = 0;      // addresses of workloads on this node (agent/node_handles.hpp)
  std::vector<std::string> notes;       // what could not be routed and why
};

// Blocks that are the two halves of one prefix merge into it, repeatedly. The parent holds
// exactly the two halves, so an aggregate of one node's blocks never covers another node's.
std::vector<ipam::Prefix> merge_siblings(std::vector<ipam::Prefix> blocks);

RoutePlan plan_routes(const ClusterView& view, const ThisNode& self, const std::vector<LearnedRoute>& learned);

std::vector<bgp::AdvertisedRoute> to_advertised(const RoutePlan& plan);

}  // namespace blockd::agent
