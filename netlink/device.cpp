#include "netlink/device.hpp"

#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "netlink/device_link.hpp"

namespace blockd::netlink {
namespace link {

void SockFree::operator()(nl_sock* s) const { nl_socket_free(s); }
void LinkFree::operator()(rtnl_link* l) const { rtnl_link_put(l); }
void AddrFree::operator()(nl_addr* a) const { nl_addr_put(a); }

Error libnl_error(int err, const std::string& what) {
  const std::string text = what + ": " + nl_geterror(err);
  switch (-err) {
    case NLE_OBJ_NOTFOUND: case NLE_NODEV: return not_found(text);
    case NLE_EXIST: return conflict(text);
    case NLE_OPNOTSUPP: case NLE_INVAL: case NLE_RANGE: return invalid(text);
    default: return unavailable(text);
  }
}

Result<SockPtr> connect() {
  SockPtr s(nl_socket_alloc());
  if (!s) return internal("netlink: cannot allocate a socket");
  if (int err = nl_connect(s.get(), NETLINK_ROUTE); err < 0) return libnl_error(err, "netlink connect");
  return s;
}

Result<LinkPtr> get(nl_sock* s, const std::string& name) {
  rtnl_link* l = nullptr;
  int err = rtnl_link_get_kernel(s, 0, name.c_str(), &l);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return LinkPtr{};
  if (err < 0) return libnl_error(err, "reading device " + name);
  return LinkPtr(l);
}

std::string kind(rtnl_link* l) {
  const char* t = rtnl_link_get_type(l);
  return t ? t : "";
}

AddrPtr address(const Address& a) {
  const auto b = a.bytes();
  return AddrPtr(nl_addr_build(a.is_v4() ? AF_INET : AF_INET6, b.data(), b.size()));
}

AddrPtr mac(const Mac& m) { return AddrPtr(nl_addr_build(AF_LLC, m.bytes().data(), 6)); }

Status assign_address(nl_sock* s, int ifindex, const ipam::InterfaceAddress& a, const std::string& name) {
  std::unique_ptr<rtnl_addr, void (*)(rtnl_addr*)> addr(rtnl_addr_alloc(), rtnl_addr_put);
  if (!addr) return internal("netlink: out of memory");
  auto local = address(a.address);
  nl_addr_set_prefixlen(local.get(), static_cast<int>(a.length));
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_local(addr.get(), local.get());
  if (int err = rtnl_addr_add(s, addr.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0)
    return libnl_error(err, "assigning " + a.str() + " to " + name);
  return {};
}

Status configure(nl_sock* s, rtnl_link* existing, std::uint32_t mtu, const Mac* m) {
  LinkPtr change(rtnl_link_alloc());
  if (!change) return internal("netlink: out of memory");
  bool any = false;
  if (mtu && rtnl_link_get_mtu(existing) != mtu) {
    rtnl_link_set_mtu(change.get(), mtu);
    any = true;
  }
  AddrPtr lladdr;
  if (m && *m != Mac()) {
    lladdr = mac(*m);
    nl_addr* have = rtnl_link_get_addr(existing);
    if (!have || nl_addr_cmp(have, lladdr.get()) != 0) {
      rtnl_link_set_addr(change.get(), lladdr.get());
      any = true;
    }
  }
  if (!(rtnl_link_get_flags(existing) & IFF_UP)) {
    rtnl_link_set_flags(change.get(), IFF_UP);
    any = true;
  }
  if (!any) return {};
  if (int err = rtnl_link_change(s, existing, change.get(), 0); err < 0)
    return libnl_error(err, std::string("configuring device ") + rtnl_link_get_name(existing));
  return {};
}

}  // namespace link

Status delete_device(const std::string& name, const std::string& kind) {
  auto s = link::connect();
  if (!s) return s.error();
  auto l = link::get(s->get(), name);
  if (!l) return l.error();
  if (!*l) return {};
  if (link::kind(l->get()) != kind)
    return conflict("device " + name + " is a " + (link::kind(l->get()).empty() ? "device without kind" : link::kind(l->get())) +
                    " device, not blockd's " + kind + " device: left alone");
  if (int err = rtnl_link_delete(s->get(), l->get()); err < 0)
    return link::libnl_error(err, "deleting device " + name);
  return {};
}

Status ensure_device_address(const std::string& device, const ipam::InterfaceAddress& a) {
  auto s = link::connect();
  if (!s) return s.error();
  auto existing = link::get(s->get(), device);
  if (!existing) return existing.error();
  if (!*existing) return not_found("device " + device + " not found (to give it " + a.str() + ")");
  return link::assign_address(s->get(), rtnl_link_get_ifindex(existing->get()), a, device);
}

}  // namespace blockd::netlink
