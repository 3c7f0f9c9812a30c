#include "netlink/neighbour_message.hpp"

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <sys/socket.h>

namespace blockd::netlink {
namespace {

int af(const Address& a) { return a.is_v4() ? AF_INET : AF_INET6; }

Result<Message> build(Op op, int family, int ifindex, std::uint8_t flags, const Address& dst,
                      const Mac& mac, const std::string& what) {
  const bool del = op == Op::Delete;
  Message m = new_message(del ? RTM_DELNEIGH : RTM_NEWNEIGH, del ? 0 : NLM_F_CREATE | NLM_F_REPLACE);
  if (!m) return internal("netlink: out of memory building " + what);
  ndmsg ndm{};
  ndm.ndm_family = static_cast<std::uint8_t>(family);
  ndm.ndm_ifindex = ifindex;
  ndm.ndm_state = NUD_PERMANENT;
  ndm.ndm_flags = flags;
  const auto ip = dst.bytes();
  bool ok = nlmsg_append(m.get(), &ndm, sizeof ndm, NLMSG_ALIGNTO) == 0 &&
            nla_put(m.get(), NDA_DST, static_cast<int>(ip.size()), ip.data()) == 0;
  if (!del || family == AF_BRIDGE)
    ok = ok && nla_put(m.get(), NDA_LLADDR, 6, mac.bytes().data()) == 0;
  if (!ok) return internal("netlink: message overflow for " + what);
  return m;
}

Message dump_request(int family, int ifindex) {
  Message m = new_message(RTM_GETNEIGH, NLM_F_DUMP);
  if (!m) return m;
  ndmsg ndm{};
  ndm.ndm_family = static_cast<std::uint8_t>(family);
  if (nlmsg_append(m.get(), &ndm, sizeof ndm, NLMSG_ALIGNTO) < 0 ||
      nla_put_u32(m.get(), NDA_IFINDEX, static_cast<std::uint32_t>(ifindex)) < 0)
    return nullptr;
  return m;
}

struct Parsed {
  const ndmsg* ndm;
  nlattr* tb[NDA_MAX + 1];
};

bool parse(const nlmsghdr* h, Parsed& p) {
  if (h->nlmsg_type != RTM_NEWNEIGH || h->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) return false;
  p.ndm = static_cast<const ndmsg*>(nlmsg_data(h));
  std::fill(std::begin(p.tb), std::end(p.tb), nullptr);
  return nlmsg_parse(const_cast<nlmsghdr*>(h), sizeof(ndmsg), p.tb, NDA_MAX, nullptr) == 0;
}

std::optional<Address> address(const nlattr* a) {
  if (!a) return std::nullopt;
  const auto len = static_cast<std::size_t>(nla_len(a));
  if (len != 4 && len != 16) return std::nullopt;
  return Address::from_bytes(len == 4 ? Family::V4 : Family::V6,
                             {static_cast<const std::uint8_t*>(nla_data(a)), len});
}

std::optional<Mac> mac_of(const nlattr* a) {
  if (!a || nla_len(a) != 6) return std::nullopt;
  std::array<std::uint8_t, 6> b{};
  std::copy_n(static_cast<const std::uint8_t*>(nla_data(a)), 6, b.begin());
  return Mac(b);
}

}  // namespace

Result<Message> neighbour_message(Op op, const Neighbour& n, int ifindex) {
  return build(op, af(n.address), ifindex, 0, n.address, n.mac, "neighbour " + n.str());
}

Result<Message> fdb_message(Op op, const FdbEntry& f, int ifindex) {
  // `bridge fdb add MAC dev DEV dst IP self permanent`: NTF_SELF puts it in the VXLAN
  // device's own table.
  return build(op, AF_BRIDGE, ifindex, NTF_SELF, f.destination, f.mac, "fdb " + f.str());
}

Message neighbour_dump_request(int ifindex) { return dump_request(AF_UNSPEC, ifindex); }
Message fdb_dump_request(int ifindex) { return dump_request(AF_BRIDGE, ifindex); }

std::optional<Neighbour> parse_neighbour(const nlmsghdr* h, int ifindex, const std::string& device) {
  Parsed p;
  if (!parse(h, p)) return std::nullopt;
  if (p.ndm->ndm_ifindex != ifindex || !(p.ndm->ndm_state & NUD_PERMANENT)) return std::nullopt;
  if (p.ndm->ndm_family != AF_INET && p.ndm->ndm_family != AF_INET6) return std::nullopt;
  auto ip = address(p.tb[NDA_DST]);
  auto mac = mac_of(p.tb[NDA_LLADDR]);
  if (!ip || !mac) return std::nullopt;
  return Neighbour{*ip, *mac, device};
}

std::optional<FdbEntry> parse_fdb(const nlmsghdr* h, int ifindex, const std::string& device) {
  Parsed p;
  if (!parse(h, p)) return std::nullopt;
  if (p.ndm->ndm_family != AF_BRIDGE || p.ndm->ndm_ifindex != ifindex ||
      !(p.ndm->ndm_state & NUD_PERMANENT))
    return std::nullopt;
  auto ip = address(p.tb[NDA_DST]);
  auto mac = mac_of(p.tb[NDA_LLADDR]);
  if (!ip || !mac) return std::nullopt;
  return FdbEntry{*mac, *ip, device};
}

}  // namespace blockd::netlink
