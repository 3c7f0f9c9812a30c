// RTM_NEWROUTE / RTM_DELROUTE messages for blockd's Route values, built and parsed with
// libnl-3's message and attribute API (Open/R: NetlinkRouteMessage).
#pragma once

#include <optional>

#include "ipam/net/result.hpp"
#include "netlink/kernel.hpp"
#include "netlink/link_table.hpp"
#include "netlink/route.hpp"
#include "netlink/socket.hpp"

struct nlmsghdr;

namespace blockd::netlink {

// Add and Replace write with NLM_F_CREATE|NLM_F_REPLACE (desired state wins at blockd's own
// destinations); Delete names the protocol, so the kernel never deletes another's route.
// `ifindex` is the route's device (0: none).
Result<Message> route_message(Op op, const Route& route, int ifindex);

// A dump request for the routes of one family carrying `protocol` (filtered in the kernel
// under NETLINK_GET_STRICT_CHK).
Message route_dump_request(Family family, std::uint8_t protocol);

// The Route in an RTM_NEWROUTE/RTM_DELROUTE message; nullopt for cache clones and families
// other than IPv4/IPv6. The kind is inferred from the shape (see RouteKind).
std::optional<Route> parse_route(const nlmsghdr* h, const LinkTable& links);

}  // namespace blockd::netlink
