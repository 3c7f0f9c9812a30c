#include "netlink/cross_subnet.hpp"

namespace blockd::netlink {

const char* path_name(RoutePath p) {
  switch (p) {
    case RoutePath::Direct: return "direct";
    case RoutePath::Ipip: return "ipip";
    case RoutePath::Vxlan: return "vxlan";
    case RoutePath::Upstream: return "upstream";
  }
  return "?";
}

RoutePath decide_path(const PoolEncapsulation& pool, const ipam::InterfaceAddress& this_node,
                      const ipam::Address& remote_node) {
  // An address of the other family is never on this node's subnet.
  const bool same_subnet = remote_node.family() == this_node.address.family() &&
                           this_node.subnet().contains(remote_node);
  const auto tunnels = [&](ipam::EncapMode m) {
    return m == ipam::EncapMode::Always || (m == ipam::EncapMode::CrossSubnet && !same_subnet);
  };
  if (tunnels(pool.vxlan)) return RoutePath::Vxlan;
  if (tunnels(pool.ipip)) return RoutePath::Ipip;
  return same_subnet ? RoutePath::Direct : RoutePath::Upstream;
}

}  // namespace blockd::netlink
