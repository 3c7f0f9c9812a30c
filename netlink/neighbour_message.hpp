// RTM_NEWNEIGH / RTM_DELNEIGH messages for permanent neighbour entries (AF_INET/AF_INET6) and
// VXLAN FDB entries (AF_BRIDGE, NTF_SELF), on libnl-3's message API (Open/R:
// NetlinkNeighborMessage).
#pragma once

#include <optional>

#include "netlink/kernel.hpp"
#include "netlink/link_table.hpp"
#include "netlink/route.hpp"
#include "netlink/socket.hpp"

struct nlmsghdr;

namespace blockd::netlink {

Result<Message> neighbour_message(Op op, const Neighbour& n, int ifindex);
Result<Message> fdb_message(Op op, const FdbEntry& f, int ifindex);

// Dump requests of neighbours (both families) and of bridge FDB entries of one device.
Message neighbour_dump_request(int ifindex);
Message fdb_dump_request(int ifindex);

// A permanent neighbour entry on `ifindex`; nullopt for anything else.
std::optional<Neighbour> parse_neighbour(const nlmsghdr* h, int ifindex, const std::string& device);
// A permanent FDB entry with a destination address on `ifindex`; nullopt for anything else.
std::optional<FdbEntry> parse_fdb(const nlmsghdr* h, int ifindex, const std::string& device);

}  // namespace blockd::netlink
