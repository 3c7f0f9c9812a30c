// A route change the kernel announced on RTNLGRP_IPV4_ROUTE / RTNLGRP_IPV6_ROUTE.
#pragma once

#include "netlink/route.hpp"

namespace blockd::netlink {

struct RouteEvent {
  enum class Type : std::uint8_t {
    New,      // RTM_NEWROUTE: added or replaced
    Deleted,  // RTM_DELROUTE
    Overrun,  // the socket overflowed (ENOBUFS): events were lost, resync
    // A device appeared, changed or went away (RTNLGRP_LINK). The kernel flushes IPv4 routes
    // of a vanished device without an RTM_DELROUTE, so this is the only sign: resync.
    LinkChanged,
  };
  Type type = Type::New;
  Route route;  // unset for Overrun and LinkChanged
};

}  // namespace blockd::netlink
