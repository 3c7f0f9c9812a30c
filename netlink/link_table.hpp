// Interface names, indexes and kinds ("vxlan", "veth", ...) of one network namespace, read
// with an RTM_GETLINK dump: routes name devices, the kernel speaks ifindex.
#pragma once

#include <string>
#include <unordered_map>

#include "ipam/net/result.hpp"
#include "netlink/socket.hpp"

namespace blockd::netlink {

class LinkTable {
 public:
  Status refresh(Socket& socket);
  // 0 when unknown.
  int index(const std::string& name) const;
  // Empty when unknown.
  const std::string& name(int index) const;
  const std::string& kind(int index) const;

 private:
  struct Link {
    std::string name, kind;
  };
  std::unordered_map<int, Link> by_index_;
  std::unordered_map<std::string, int> by_name_;
};

}  // namespace blockd::netlink
