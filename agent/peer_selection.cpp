#include "agent/peer_selection.hpp"

#include <algorithm>

#include "ipam/resources/selector.hpp"

namespace blockd::agent {
namespace {

// A BGPPeer's spec.nodeSelector against this node's labels.
bool peer_selects(const ipam::BGPPeer& peer, const ipam::Labels& labels) {
  auto s = ipam::Selector::parse(peer.node_selector);
  return s && s->matches(labels);
}

}  // namespace

std::vector<SelectedPeer> select_peers(const std::vector<ConfigPeer>& configured,
                                       const std::vector<ipam::BGPPeer>& resources, const std::string& node,
                                       const ipam::Labels& labels,
                                       const std::vector<ipam::Address>& node_addresses) {
  std::vector<SelectedPeer> out;
  auto add = [&](bgp::PeerConfig p, std::string source, std::string type, const std::optional<BfdProfile>& bfd) {
    const bool known = std::any_of(out.begin(), out.end(), [&](const SelectedPeer& s) { return s.config.address == p.address; });
    if (known) return;
    p.bfd = bfd.has_value();
    out.push_back({std::move(p), std::move(source), std::move(type), bfd});
  };
  for (const auto& c : configured) {
    bgp::PeerConfig p;
    p.address = c.address;
    p.peer_as = c.as_number;
    p.password = c.password;
    p.port = c.port;
    p.passive = c.passive;
    p.local_address = c.local_address;
    add(std::move(p), "config", "config", c.bfd);
  }
  for (const auto& r : resources) {
    if (!r.node.empty() && r.node != node) continue;
    if (!r.node_selector.empty() && !peer_selects(r, labels)) continue;
    bgp::PeerConfig p;
    p.address = r.peer_ip;
    p.peer_as = r.as_number;
    p.password = r.password;
    if (r.port) p.port = *r.port;
    if (r.source_address == ipam::SourceAddress::UseNodeIP) {
      for (const auto& a : node_addresses) {
        if (a.family() == r.peer_ip.family()) p.local_address = a;
      }
    }
    add(std::move(p), "BGPPeer/" + r.name, r.node.empty() && r.node_selector.empty() ? "global" : "node specific",
        r.bfd);
  }
  return out;
}

}  // namespace blockd::agent
