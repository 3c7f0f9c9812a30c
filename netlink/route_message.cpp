#include "netlink/route_message.hpp"

#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <sys/socket.h>

#include <algorithm>
#include <vector>

namespace blockd::netlink {
namespace {

int af(Family f) { return f == Family::V4 ? AF_INET : AF_INET6; }

std::uint8_t table_byte(std::uint32_t table) {
  return table < 256 ? static_cast<std::uint8_t>(table) : static_cast<std::uint8_t>(RT_TABLE_UNSPEC);
}

// RTA_MULTIPATH: one rtnexthop per next hop, each followed by its RTA_GATEWAY; ifindex 0 lets
// the kernel resolve each gateway's device (as `ip route add D nexthop via A nexthop via B`).
bool put_multipath(nl_msg* msg, const std::vector<Address>& next_hops) {
  nlattr* nest = nla_nest_start(msg, RTA_MULTIPATH);
  if (!nest) return false;
  for (const auto& hop : next_hops) {
    auto* nh = static_cast<rtnexthop*>(nlmsg_reserve(msg, sizeof(rtnexthop), NLMSG_ALIGNTO));
    if (!nh) return false;
    *nh = rtnexthop{};
    const auto gw = hop.bytes();
    if (nla_put(msg, RTA_GATEWAY, static_cast<int>(gw.size()), gw.data()) != 0) return false;
    nh->rtnh_len = static_cast<unsigned short>(reinterpret_cast<char*>(nlmsg_tail(nlmsg_hdr(msg))) -
                                               reinterpret_cast<char*>(nh));
  }
  return nla_nest_end(msg, nest) == 0;
}

// The gateways of an RTA_MULTIPATH attribute, sorted; nullopt when a next hop is not one blockd
// writes (no gateway, onlink, another family) or the attribute is malformed.
std::optional<std::vector<Address>> parse_multipath(const nlattr* attr, Family family, std::size_t addr_len) {
  std::vector<Address> hops;
  const auto* p = static_cast<const char*>(nla_data(attr));
  int left = nla_len(attr);
  while (left >= static_cast<int>(sizeof(rtnexthop))) {
    const auto* nh = reinterpret_cast<const rtnexthop*>(p);
    if (nh->rtnh_len < sizeof(rtnexthop) || nh->rtnh_len > left) return std::nullopt;
    if (nh->rtnh_flags & RTNH_F_ONLINK) return std::nullopt;
    nlattr* tb[RTA_MAX + 1] = {};
    if (nla_parse(tb, RTA_MAX, reinterpret_cast<nlattr*>(const_cast<char*>(p) + RTNH_LENGTH(0)),
                  nh->rtnh_len - static_cast<int>(RTNH_LENGTH(0)), nullptr) < 0)
      return std::nullopt;
    if (!tb[RTA_GATEWAY] || static_cast<std::size_t>(nla_len(tb[RTA_GATEWAY])) != addr_len) return std::nullopt;
    hops.push_back(Address::from_bytes(family, {static_cast<const std::uint8_t*>(nla_data(tb[RTA_GATEWAY])), addr_len}));
    const int step = static_cast<int>(RTNH_ALIGN(nh->rtnh_len));
    p += step;
    left -= step;
  }
  if (hops.empty()) return std::nullopt;
  std::sort(hops.begin(), hops.end());
  return hops;
}

}  // namespace

Result<Message> route_message(Op op, const Route& route, int ifindex) {
  const bool del = op == Op::Delete;
  Message m = new_message(del ? RTM_DELROUTE : RTM_NEWROUTE,
                          del ? 0 : NLM_F_CREATE | NLM_F_REPLACE);
  if (!m) return internal("netlink: out of memory building a route message");
  rtmsg rtm{};
  rtm.rtm_family = static_cast<unsigned char>(af(route.destination.family()));
  rtm.rtm_dst_len = static_cast<unsigned char>(route.destination.length());
  rtm.rtm_table = table_byte(route.table);
  rtm.rtm_protocol = route.protocol;
  if (del) {
    // As `ip route del`: any scope and type, but only this protocol.
    rtm.rtm_scope = RT_SCOPE_NOWHERE;
    rtm.rtm_type = RTN_UNSPEC;
  } else {
    rtm.rtm_scope = route.scope();
    rtm.rtm_type = route.is_blackhole() ? RTN_BLACKHOLE : RTN_UNICAST;
    if (route.onlink) rtm.rtm_flags |= RTNH_F_ONLINK;
  }
  nl_msg* msg = m.get();
  const auto& dst = route.destination.address().bytes();
  bool ok = nlmsg_append(msg, &rtm, sizeof rtm, NLMSG_ALIGNTO) == 0 &&
            nla_put(msg, RTA_DST, static_cast<int>(dst.size()), dst.data()) == 0 &&
            nla_put_u32(msg, RTA_TABLE, route.table) == 0;
  if (route.effective_metric() != 0)
    ok = ok && nla_put_u32(msg, RTA_PRIORITY, route.effective_metric()) == 0;
  if (!del) {
    if (route.gateway) {
      const auto gw = route.gateway->bytes();
      ok = ok && nla_put(msg, RTA_GATEWAY, static_cast<int>(gw.size()), gw.data()) == 0;
    }
    if (route.is_multipath()) ok = ok && put_multipath(msg, route.next_hops);
    if (ifindex > 0) ok = ok && nla_put_u32(msg, RTA_OIF, static_cast<std::uint32_t>(ifindex)) == 0;
  }
  if (!ok) return internal("netlink: route message overflow for " + route.str());
  return m;
}

Message route_dump_request(Family family, std::uint8_t protocol) {
  Message m = new_message(RTM_GETROUTE, NLM_F_DUMP);
  if (!m) return m;
  rtmsg rtm{};
  rtm.rtm_family = static_cast<unsigned char>(af(family));
  rtm.rtm_protocol = protocol;
  if (nlmsg_append(m.get(), &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0) return nullptr;
  return m;
}

std::optional<Route> parse_route(const nlmsghdr* h, const LinkTable& links) {
  if (h->nlmsg_type != RTM_NEWROUTE && h->nlmsg_type != RTM_DELROUTE) return std::nullopt;
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return std::nullopt;
  const auto* rtm = static_cast<const rtmsg*>(nlmsg_data(h));
  if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) return std::nullopt;
  if (rtm->rtm_flags & RTM_F_CLONED) return std::nullopt;
  const Family family = rtm->rtm_family == AF_INET ? Family::V4 : Family::V6;
  const std::size_t addr_len = family == Family::V4 ? 4 : 16;

  nlattr* tb[RTA_MAX + 1] = {};
  if (nlmsg_parse(const_cast<nlmsghdr*>(h), sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0)
    return std::nullopt;
  const auto address = [&](const nlattr* a) -> std::optional<Address> {
    if (!a || static_cast<std::size_t>(nla_len(a)) != addr_len) return std::nullopt;
    return Address::from_bytes(
        family, {static_cast<const std::uint8_t*>(nla_data(a)), addr_len});
  };

  Route r;
  const auto dst = address(tb[RTA_DST]);
  if (tb[RTA_DST] && !dst) return std::nullopt;
  r.destination = Prefix::make(dst ? *dst : Address::from_value(family, 0), rtm->rtm_dst_len);
  r.gateway = address(tb[RTA_GATEWAY]);
  r.table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
  r.protocol = rtm->rtm_protocol;
  r.metric = tb[RTA_PRIORITY] ? nla_get_u32(tb[RTA_PRIORITY]) : 0;
  r.onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
  const int oif = tb[RTA_OIF] ? static_cast<int>(nla_get_u32(tb[RTA_OIF])) : 0;
  if (oif) r.device = links.name(oif);

  if (rtm->rtm_type == RTN_BLACKHOLE) {
    r.kind = RouteKind::Blackhole;
  } else if (rtm->rtm_type != RTN_UNICAST) {
    r.kind = RouteKind::Other;
  } else if (tb[RTA_MULTIPATH]) {
    auto hops = parse_multipath(tb[RTA_MULTIPATH], family, addr_len);
    // One next hop left is reported as a multipath of one by IPv6 after a sibling goes.
    if (hops && hops->size() == 1 && !r.gateway) {
      r.gateway = hops->front();
      r.kind = RouteKind::Direct;
    } else if (hops && hops->size() > 1 && !r.gateway && !r.onlink) {
      r.next_hops = std::move(*hops);
      r.kind = RouteKind::Direct;
    } else {
      r.kind = RouteKind::Other;
    }
  } else if (r.gateway) {
    r.kind = !r.onlink ? RouteKind::Direct
             : links.kind(oif) == "vxlan" ? RouteKind::Vxlan
                                          : RouteKind::Ipip;
  } else if (oif) {
    // IPv6 reports every route as scope universe, so a device route is a workload route.
    r.kind = (family == Family::V6 || rtm->rtm_scope == RT_SCOPE_LINK) ? RouteKind::Workload
                                                                       : RouteKind::Other;
  } else {
    r.kind = RouteKind::Other;
  }
  return r;
}

}  // namespace blockd::netlink
