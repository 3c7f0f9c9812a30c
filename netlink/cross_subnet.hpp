// Which way traffic to a remote node's block goes, as a pure function of the pool's
// encapsulation modes, this node's underlay address with its subnet, and the remote node's
// address (Calico IPPool ipipMode/vxlanMode: Never, Always, CrossSubnet).
#pragma once

#include <cstdint>

#include "ipam/net/encap_mode.hpp"
#include "ipam/net/prefix.hpp"

namespace blockd::netlink {

struct PoolEncapsulation {
  ipam::EncapMode ipip = ipam::EncapMode::Never;
  ipam::EncapMode vxlan = ipam::EncapMode::Never;
};

enum class RoutePath : std::uint8_t {
  Direct,    // same subnet, no tunnel: via the remote node address
  Ipip,      // via the remote node address on the IPIP device, onlink
  Vxlan,     // via the remote VTEP address on the VXLAN device, onlink
  Upstream,  // different subnet, no tunnel: the route learned over BGP from the ToR
};
const char* path_name(RoutePath p);

// Calico: CrossSubnet encapsulates only when the remote node is outside this node's subnet.
// A pool never has both modes on (Calico rejects it); should both be set, VXLAN wins.
RoutePath decide_path(const PoolEncapsulation& pool, const ipam::InterfaceAddress& this_node,
                      const ipam::Address& remote_node);

}  // namespace blockd::netlink
