#include "netlink/cross_subnet.hpp"

#include <gtest/gtest.h>

namespace blockd::netlink {
namespace {

using M = ipam::EncapMode;

ipam::InterfaceAddress node(const char* s) { return ipam::InterfaceAddress::parse(s).value(); }
ipam::Address addr(const char* s) { return ipam::Address::parse(s).value(); }

struct Case {
  const char* name;
  PoolEncapsulation pool;
  const char* this_node;
  const char* remote;
  RoutePath want;
};

TEST(CrossSubnetDecision, FollowsThePoolModeAndTheSubnet) {
  const Case cases[] = {
      {"never, same subnet: direct", {M::Never, M::Never}, "10.0.0.10/24", "10.0.0.11", RoutePath::Direct},
      {"never, other subnet: upstream", {M::Never, M::Never}, "10.0.0.10/24", "10.0.1.11", RoutePath::Upstream},
      {"ipip always, same subnet", {M::Always, M::Never}, "10.0.0.10/24", "10.0.0.11", RoutePath::Ipip},
      {"ipip always, other subnet", {M::Always, M::Never}, "10.0.0.10/24", "10.0.1.11", RoutePath::Ipip},
      {"ipip cross-subnet, same subnet", {M::CrossSubnet, M::Never}, "10.0.0.10/24", "10.0.0.200", RoutePath::Direct},
      {"ipip cross-subnet, other subnet", {M::CrossSubnet, M::Never}, "10.0.0.10/24", "10.0.1.1", RoutePath::Ipip},
      {"vxlan always, same subnet", {M::Never, M::Always}, "10.0.0.10/24", "10.0.0.11", RoutePath::Vxlan},
      {"vxlan cross-subnet, same subnet", {M::Never, M::CrossSubnet}, "10.0.0.10/24", "10.0.0.11", RoutePath::Direct},
      {"vxlan cross-subnet, other subnet", {M::Never, M::CrossSubnet}, "10.0.0.10/24", "192.168.0.1", RoutePath::Vxlan},
      {"subnet edge: last address is inside", {M::Never, M::CrossSubnet}, "10.0.0.10/24", "10.0.0.255", RoutePath::Direct},
      {"subnet edge: next address is outside", {M::Never, M::CrossSubnet}, "10.0.0.10/24", "10.0.1.0", RoutePath::Vxlan},
      {"/31 underlay", {M::CrossSubnet, M::Never}, "10.0.0.0/31", "10.0.0.1", RoutePath::Direct},
      {"/32 underlay: every other node is remote", {M::CrossSubnet, M::Never}, "10.0.0.10/32", "10.0.0.11", RoutePath::Ipip},
      {"both modes set: vxlan wins", {M::Always, M::Always}, "10.0.0.10/24", "10.0.0.11", RoutePath::Vxlan},
      {"IPv6 same subnet", {M::Never, M::CrossSubnet}, "fd00::10/64", "fd00::11", RoutePath::Direct},
      {"IPv6 other subnet", {M::Never, M::CrossSubnet}, "fd00::10/64", "fd00:1::11", RoutePath::Vxlan},
      {"other family is never the same subnet", {M::Never, M::CrossSubnet}, "10.0.0.10/24", "fd00::11", RoutePath::Vxlan},
  };
  for (const auto& c : cases)
    EXPECT_EQ(decide_path(c.pool, node(c.this_node), addr(c.remote)), c.want)
        << c.name << ": got " << path_name(decide_path(c.pool, node(c.this_node), addr(c.remote)));
}

}  // namespace
}  // namespace blockd::netlink
