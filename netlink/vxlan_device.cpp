#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>
#include <spdlog/spdlog.h>

#include "netlink/device.hpp"
#include "netlink/device_link.hpp"

namespace blockd::netlink {
namespace {

// Calico's VXLAN MTU overhead: outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14);
// over IPv6 the outer header is 40 bytes.
constexpr std::uint32_t kOverheadV4 = 50;
constexpr std::uint32_t kOverheadV6 = 70;

// Why an existing VXLAN device cannot be kept (empty: it can). VNI, port, local address and
// parent cannot be changed on a live VXLAN device, so a mismatch means recreating it.
std::string mismatch(rtnl_link* l, const VxlanDeviceConfig& c, int uplink_index) {
  std::uint32_t vni = 0, port = 0, parent = 0;
  if (rtnl_link_vxlan_get_id(l, &vni) < 0 || vni != c.vni) return "VNI " + std::to_string(vni);
  if (rtnl_link_vxlan_get_port(l, &port) < 0 || port != c.port) return "port " + std::to_string(port);
  if (rtnl_link_vxlan_get_learning(l) != 0) return "learning on";
  if (rtnl_link_vxlan_get_link(l, &parent) < 0 || static_cast<int>(parent) != uplink_index)
    return "parent device index " + std::to_string(parent);
  nl_addr* local = nullptr;
  if (rtnl_link_vxlan_get_local(l, &local) < 0 || !local) return "no local address";
  link::AddrPtr have(local);
  if (nl_addr_cmp(have.get(), link::address(c.local).get()) != 0) return "another local address";
  return {};
}

Status create(nl_sock* s, const VxlanDeviceConfig& c, int uplink_index, std::uint32_t mtu) {
  link::LinkPtr l(rtnl_link_vxlan_alloc());
  if (!l) return internal("netlink: out of memory");
  rtnl_link_set_name(l.get(), c.name.c_str());
  rtnl_link_vxlan_set_id(l.get(), c.vni);
  rtnl_link_vxlan_set_port(l.get(), c.port);
  // Learning off: every remote VTEP is a permanent FDB entry blockd writes (as Calico does).
  rtnl_link_vxlan_set_learning(l.get(), 0);
  rtnl_link_vxlan_set_link(l.get(), static_cast<std::uint32_t>(uplink_index));
  auto local = link::address(c.local);
  rtnl_link_vxlan_set_local(l.get(), local.get());
  rtnl_link_set_mtu(l.get(), mtu);
  auto mac = link::mac(c.mac);
  rtnl_link_set_addr(l.get(), mac.get());
  if (int err = rtnl_link_add(s, l.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return link::libnl_error(err, "creating VXLAN device " + c.name);
  return {};
}

}  // namespace

Status VxlanDeviceConfig::validate() const {
  if (name.empty() || name.size() > 15)
    return invalid("VXLAN device name '" + name + "' must be 1 to 15 characters");
  if (vni == 0 || vni > 0xFFFFFF) return invalid("VXLAN VNI " + std::to_string(vni) + " is not in 1..16777215");
  if (port == 0) return invalid("VXLAN port 0 is not a port");
  if (uplink.empty()) return invalid("VXLAN device " + name + ": the uplink device is not set");
  if (mac == Mac() || (mac.bytes()[0] & 1))
    return invalid("VXLAN device " + name + ": MAC " + mac.str() + " is not a unicast address");
  if (address && (address->length != address->address.bits()))
    return invalid("VXLAN device " + name + ": the VTEP address " + address->str() +
                   " must be a /32 or /128");
  return {};
}

Status ensure_vxlan_device(const VxlanDeviceConfig& c) {
  if (auto v = c.validate(); !v) return v;
  auto s = link::connect();
  if (!s) return s.error();
  auto uplink = link::get(s->get(), c.uplink);
  if (!uplink) return uplink.error();
  if (!*uplink) return not_found("VXLAN device " + c.name + ": uplink device " + c.uplink + " not found");
  const int uplink_index = rtnl_link_get_ifindex(uplink->get());
  const std::uint32_t mtu =
      c.mtu ? c.mtu : rtnl_link_get_mtu(uplink->get()) - (c.local.is_v4() ? kOverheadV4 : kOverheadV6);

  auto existing = link::get(s->get(), c.name);
  if (!existing) return existing.error();
  if (*existing) {
    const std::string k = link::kind(existing->get());
    if (k != "vxlan")
      return conflict("device " + c.name + " exists and is " + (k.empty() ? "not a VXLAN device" : "a " + k + " device") +
                      ": blockd will not take it over");
    if (auto why = mismatch(existing->get(), c, uplink_index); !why.empty()) {
      spdlog::info("netlink: recreating VXLAN device {} ({} differs from the configuration)", c.name, why);
      if (int err = rtnl_link_delete(s->get(), existing->get()); err < 0)
        return link::libnl_error(err, "deleting VXLAN device " + c.name);
      existing->reset();
    }
  }
  if (!*existing) {
    if (auto st = create(s->get(), c, uplink_index, mtu); !st) return st;
    existing = link::get(s->get(), c.name);
    if (!existing) return existing.error();
    if (!*existing) return internal("VXLAN device " + c.name + " vanished after creation");
  }
  if (auto st = link::configure(s->get(), existing->get(), mtu, &c.mac); !st) return st;
  if (c.address) return link::assign_address(s->get(), rtnl_link_get_ifindex(existing->get()), *c.address, c.name);
  return {};
}

}  // namespace blockd::netlink
