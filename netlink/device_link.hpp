// libnl-3 link helpers shared by vxlan_device.cpp and ipip_device.cpp (internal).
#pragma once

#include <memory>
#include <string>

#include "ipam/net/result.hpp"
#include "netlink/route.hpp"

struct nl_sock;
struct rtnl_link;
struct nl_addr;

namespace blockd::netlink::link {

struct SockFree { void operator()(nl_sock* s) const; };
struct LinkFree { void operator()(rtnl_link* l) const; };
struct AddrFree { void operator()(nl_addr* a) const; };
using SockPtr = std::unique_ptr<nl_sock, SockFree>;
using LinkPtr = std::unique_ptr<rtnl_link, LinkFree>;
using AddrPtr = std::unique_ptr<nl_addr, AddrFree>;

Result<SockPtr> connect();
// The link named `name`, or nullptr when there is none.
Result<LinkPtr> get(nl_sock* s, const std::string& name);
std::string kind(rtnl_link* l);
AddrPtr address(const Address& a);
AddrPtr mac(const Mac& m);
Error libnl_error(int err, const std::string& what);
// Adds (or replaces) an address on the link with index `ifindex` (`name` for messages).
Status assign_address(nl_sock* s, int ifindex, const ipam::InterfaceAddress& a, const std::string& name);
// Sets MTU (when non-zero), MAC (when set) and IFF_UP on an existing link.
Status configure(nl_sock* s, rtnl_link* existing, std::uint32_t mtu, const Mac* mac);

}  // namespace blockd::netlink::link
