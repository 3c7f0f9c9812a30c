#include <arpa/inet.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <netlink/route/link/ipip.h>

#include "netlink/device.hpp"
#include "netlink/device_link.hpp"

namespace blockd::netlink {
namespace {
constexpr std::uint32_t kIpipOverhead = 20;  // the outer IPv4 header (RFC 2003 §3)
}

Status ensure_ipip_device(const IpipDeviceConfig& c) {
  if (c.name.empty() || c.name.size() > 15)
    return invalid("IPIP device name '" + c.name + "' must be 1 to 15 characters");
  if (c.local && !c.local->is_v4())
    return invalid("IPIP device " + c.name + ": local address " + c.local->str() + " is not IPv4");
  auto s = link::connect();
  if (!s) return s.error();
  std::uint32_t mtu = c.mtu;
  int uplink_index = 0;
  if (!c.uplink.empty()) {
    auto uplink = link::get(s->get(), c.uplink);
    if (!uplink) return uplink.error();
    if (!*uplink) return not_found("IPIP device " + c.name + ": uplink device " + c.uplink + " not found");
    uplink_index = rtnl_link_get_ifindex(uplink->get());
    if (!mtu) mtu = rtnl_link_get_mtu(uplink->get()) - kIpipOverhead;
  }
  auto existing = link::get(s->get(), c.name);
  if (!existing) return existing.error();
  if (*existing) {
    const std::string k = link::kind(existing->get());
    if (k != "ipip")
      return conflict("device " + c.name + " exists and is " + (k.empty() ? "not an IPIP device" : "a " + k + " device") +
                      ": blockd will not take it over");
    if (auto ok = link::configure(s->get(), existing->get(), mtu, nullptr); !ok) return ok;
    if (c.address) return link::assign_address(s->get(), rtnl_link_get_ifindex(existing->get()), *c.address, c.name);
    return {};
  }
  link::LinkPtr l(rtnl_link_ipip_alloc());
  if (!l) return internal("netlink: out of memory");
  rtnl_link_set_name(l.get(), c.name.c_str());
  if (uplink_index) rtnl_link_ipip_set_link(l.get(), static_cast<std::uint32_t>(uplink_index));
  if (c.local) rtnl_link_ipip_set_local(l.get(), htonl(c.local->v4_value()));
  if (mtu) rtnl_link_set_mtu(l.get(), mtu);
  if (int err = rtnl_link_add(s->get(), l.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    // The kernel answers EOPNOTSUPP ("Unknown device type") when it has no ipip module.
    if (err == -NLE_OPNOTSUPP || err == -NLE_NOATTR || err == -NLE_AF_NOSUPPORT)
      return unavailable("IPIP device " + c.name +
                         ": this kernel cannot create IPIP devices (no ipip module): " + nl_geterror(err));
    return link::libnl_error(err, "creating IPIP device " + c.name);
  }
  auto created = link::get(s->get(), c.name);
  if (!created) return created.error();
  if (!*created) return internal("IPIP device " + c.name + " vanished after creation");
  if (auto ok = link::configure(s->get(), created->get(), mtu, nullptr); !ok) return ok;
  if (c.address) return link::assign_address(s->get(), rtnl_link_get_ifindex(created->get()), *c.address, c.name);
  return {};
}

}  // namespace blockd::netlink
