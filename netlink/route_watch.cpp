#include "netlink/route_watch.hpp"

#include <linux/rtnetlink.h>
#include <poll.h>

#include "netlink/route_message.hpp"

namespace blockd::netlink {

Result<std::unique_ptr<RouteWatch>> RouteWatch::open() {
  // RTNLGRP_LINK too: a device appearing or renamed refreshes the names routes refer to.
  auto events = Socket::open({RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK});
  if (!events) return events.error().within("route events");
  auto requests = Socket::open();
  if (!requests) return requests.error().within("route events");
  std::unique_ptr<RouteWatch> w(new RouteWatch(std::move(*events), std::move(*requests)));
  if (auto s = w->links_.refresh(w->requests_); !s) return s.error();
  return w;
}

std::vector<RouteEvent> RouteWatch::read() {
  std::vector<RouteEvent> out;
  bool links_changed = false;
  const auto s = events_.read_pending([&](const nlmsghdr* h) {
    if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) {
      if (!links_changed) {
        (void)links_.refresh(requests_);
        out.push_back({RouteEvent::Type::LinkChanged, {}});
      }
      links_changed = true;
      return;
    }
    auto r = parse_route(h, links_);
    if (!r) return;
    out.push_back({h->nlmsg_type == RTM_DELROUTE ? RouteEvent::Type::Deleted : RouteEvent::Type::New,
                   std::move(*r)});
  });
  if (!s) out.push_back({RouteEvent::Type::Overrun, {}});
  return out;
}

std::vector<RouteEvent> RouteWatch::wait(std::chrono::milliseconds timeout) {
  pollfd p{fd(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
  return read();
}

}  // namespace blockd::netlink
