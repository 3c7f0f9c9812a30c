// A route change the kernel announced on RTNLGRP_IPV4_ROUTE / RTNLGRP_IPV6_ROUTE.
#pragma once

#include "netlink/route.hpp"

namespace blockd::netlink {

struct RouteEvent {
  enum class Type : std::uint8_t {
    New,      // RTM_NEWROUTE: added or replaced
    Deleted,  // RTM_DELROUTE
    Overrun,  // the socket overflowed (ENOBUFS): events were lost, resync
  };
  Type type = Type::New;
  Route route;  // unset for Overrun
};

}  // namespace blockd::netlink
