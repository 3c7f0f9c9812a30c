// Which interface a route goes out of, for BGPFilter `interface` rules (agent/route_interfaces.hpp).
#include "agent/route_interfaces.hpp"

#include <gtest/gtest.h>

namespace blockd::agent {
namespace {

ipam::Prefix P(const char* s) { return *ipam::Prefix::parse(s); }
ipam::Address A(const char* s) { return *ipam::Address::parse(s); }

const std::vector<netlink::Route> kKernel = {
    netlink::Route::workload(P("10.0.1.0/24"), "eth0"),        // the node's subnet (proto kernel)
    netlink::Route::workload(P("192.168.5.7/32"), "veth9f3a"),  // a pod, as the ptp plugin routes it
    netlink::Route::direct(P("192.168.9.0/26"), A("10.0.1.3")), // via a gateway: no interface of its own
    netlink::Route::blackhole(P("192.168.5.0/26")),
};

TEST(RouteInterfaces, TheLongestDeviceRouteHoldingTheDestinationNamesIt) {
  EXPECT_EQ(device_toward(P("192.168.5.7/32"), kKernel), "veth9f3a");
  EXPECT_EQ(device_toward(P("10.0.1.1/32"), kKernel), "eth0");      // a peer's next hop on the subnet
  EXPECT_EQ(device_toward(P("192.168.5.8/32"), kKernel), "");       // only the blackhole holds it
  EXPECT_EQ(device_toward(P("192.168.9.1/32"), kKernel), "");       // a gateway route is not a device's
  EXPECT_EQ(device_toward(P("fd00::1/128"), kKernel), "");
}

TEST(RouteInterfaces, OnlyBorrowedAddressesGetTheirWorkloadsInterface) {
  RoutePlan plan;
  plan.advertise = {{P("192.168.5.0/26"), Advertisement::Kind::Block},
                    {P("192.168.5.7/32"), Advertisement::Kind::Borrowed},
                    {P("10.0.1.0/24"), Advertisement::Kind::Service}};
  name_interfaces(plan, kKernel);
  EXPECT_EQ(plan.advertise[0].interface, "");
  EXPECT_EQ(plan.advertise[1].interface, "veth9f3a");
  EXPECT_EQ(plan.advertise[2].interface, "");  // a service CIDR: nothing of this node routes it
  EXPECT_EQ(to_advertised(plan)[1].interface, "veth9f3a");
}

}  // namespace
}  // namespace blockd::agent
