// The interface a route goes out of, for BGPFilter `interface` rules. Calico compiles such a rule
// to BIRD's `defined(ifname) && ifname ~ "<pattern>"`, where ifname is the interface of the
// route's next hop: for a pod's /32 (/128) the host end of its veth, for a route learned from a
// peer the interface toward that peer, for a blackhole (an own block) or a service CIDR none.
// blockd asks the kernel's routes the same question. Pure.
#pragma once

#include <string>
#include <vector>

#include "agent/route_plan.hpp"
#include "netlink/route.hpp"

namespace blockd::agent {

// The kernel protocols of the routes an interface is read from: the kernel's own connected
// routes (RTPROT_KERNEL), and those `ip route` and the CNI plugins add (RTPROT_BOOT, RTPROT_STATIC).
inline constexpr std::uint8_t kInterfaceRouteProtocols[] = {2, 3, 4};

// The device of the longest route holding `dst` that goes straight out of a device (no gateway,
// not a blackhole), in the main table; empty when there is none.
std::string device_toward(const ipam::Prefix& dst, const std::vector<netlink::Route>& routes);

// Each borrowed address the plan advertises gets the device of its workload route (an own
// block is blackholed and a service CIDR is routed by nothing of this node: they keep none).
void name_interfaces(RoutePlan& plan, const std::vector<netlink::Route>& routes);

}  // namespace blockd::agent
