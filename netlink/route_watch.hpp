// Route events from the kernel (RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE), so the agent can
// resync when someone deletes or changes one of blockd's routes by hand. The agent polls fd()
// (or calls wait()) on its one thread and asks Programmer::needs_resync about each event.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "ipam/net/result.hpp"
#include "netlink/link_table.hpp"
#include "netlink/route_event.hpp"
#include "netlink/socket.hpp"

namespace blockd::netlink {

class RouteWatch {
 public:
  // Subscribes in the calling thread's network namespace.
  static Result<std::unique_ptr<RouteWatch>> open();

  // Readable when events are queued.
  int fd() const { return events_.fd(); }
  // The queued events, without blocking. A lost burst (ENOBUFS) yields one Overrun event.
  std::vector<RouteEvent> read();
  // Blocks until events arrive or `timeout` passes (then returns none).
  std::vector<RouteEvent> wait(std::chrono::milliseconds timeout);

 private:
  RouteWatch(Socket events, Socket requests)
      : events_(std::move(events)), requests_(std::move(requests)) {}
  Socket events_;
  Socket requests_;  // link dumps: device names of events
  LinkTable links_;
};

}  // namespace blockd::netlink
