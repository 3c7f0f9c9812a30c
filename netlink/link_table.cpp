#include "netlink/link_table.hpp"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

namespace blockd::netlink {
namespace {
const std::string kNone;
}

Status LinkTable::refresh(Socket& socket) {
  std::unordered_map<int, Link> by_index;
  std::unordered_map<std::string, int> by_name;
  auto s = socket.dump(
      [&] {
        by_index.clear();
        by_name.clear();
        Message m = new_message(RTM_GETLINK, 0);
        ifinfomsg ifi{};
        ifi.ifi_family = AF_UNSPEC;
        if (m) nlmsg_append(m.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO);
        return m;
      },
      [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWLINK) return;
        nlattr* tb[IFLA_MAX + 1] = {};
        if (nlmsg_parse(const_cast<nlmsghdr*>(h), sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0)
          return;
        const auto* ifi = static_cast<const ifinfomsg*>(nlmsg_data(h));
        if (!tb[IFLA_IFNAME]) return;
        Link link{nla_get_string(tb[IFLA_IFNAME]), {}};
        if (tb[IFLA_LINKINFO]) {
          nlattr* info[IFLA_INFO_MAX + 1] = {};
          if (nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) == 0 &&
              info[IFLA_INFO_KIND])
            link.kind = nla_get_string(info[IFLA_INFO_KIND]);
        }
        by_name[link.name] = ifi->ifi_index;
        by_index[ifi->ifi_index] = std::move(link);
      });
  if (!s) return s.error().within("dumping links");
  by_index_ = std::move(by_index);
  by_name_ = std::move(by_name);
  return {};
}

int LinkTable::index(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? 0 : it->second;
}

const std::string& LinkTable::name(int index) const {
  auto it = by_index_.find(index);
  return it == by_index_.end() ? kNone : it->second.name;
}

const std::string& LinkTable::kind(int index) const {
  auto it = by_index_.find(index);
  return it == by_index_.end() ? kNone : it->second.kind;
}

}  // namespace blockd::netlink
