#include "agent/peer_selection.hpp"

#include <algorithm>

#include "ipam/resources/selector.hpp"

namespace blockd::agent {
namespace {

bool selector_matches(const std::string& text, const ipam::Labels& labels) {
  auto s = ipam::Selector::parse(text);
  return s && s->matches(labels);
}

}  // namespace

std::vector<SelectedPeer> select_peers(const PeerSelectionInput& in) {
  std::vector<SelectedPeer> out;
  auto add = [&](bgp::PeerConfig p, std::string source, std::string type, const std::optional<BfdProfile>& bfd) {
    const bool known = std::any_of(out.begin(), out.end(), [&](const SelectedPeer& s) { return s.config.address == p.address; });
    if (known) return;
    p.bfd = bfd.has_value();
    out.push_back({std::move(p), std::move(source), std::move(type), bfd});
  };
  // A node as a peer: its IPv4 address, and its IPv6 one when this node has one too (a session
  // per family, as Calico's BIRD configuration has).
  const auto self = in.nodes.find(in.node);
  const bool self_v6 = self != in.nodes.end() && self->second.ipv6_address.has_value();
  auto add_node = [&](const ipam::Node& n, const std::string& source, const std::string& type,
                      const std::optional<BfdProfile>& bfd) {
    if (n.name == in.node) return;  // Calico: a node never peers with itself
    for (const auto& a : {n.ipv4_address, self_v6 ? n.ipv6_address : std::nullopt}) {
      if (!a) continue;
      bgp::PeerConfig p;
      p.address = a->address;
      p.peer_as = n.as_number.value_or(in.default_as);
      p.port = in.peer_port;
      add(std::move(p), source, type, bfd);
    }
  };
  for (const auto& c : in.configured) {
    bgp::PeerConfig p;
    p.address = c.address;
    p.peer_as = c.as_number;
    p.password = c.password;
    p.port = c.port;
    p.passive = c.passive;
    add(std::move(p), "config", "config", c.bfd);
  }
  for (const auto& r : in.resources) {
    if (!r.node.empty() && r.node != in.node) continue;
    if (!r.node_selector.empty() && !selector_matches(r.node_selector, in.labels)) continue;
    const std::string type = r.node.empty() && r.node_selector.empty() ? "global" : "node specific";
    if (!r.peer_selector.empty()) {
      for (const auto& [name, n] : in.nodes) {
        if (selector_matches(r.peer_selector, n.labels)) add_node(n, "BGPPeer/" + r.name, type, r.bfd);
      }
      continue;
    }
    bgp::PeerConfig p;
    p.address = r.peer_ip;
    p.peer_as = r.as_number;
    p.password = r.password;
    if (r.port) p.port = *r.port;
    add(std::move(p), "BGPPeer/" + r.name, type, r.bfd);
  }
  if (in.node_to_node_mesh) {
    for (const auto& [name, n] : in.nodes) add_node(n, "Node/" + name, "node-to-node mesh", std::nullopt);
  }
  return out;
}

std::vector<SelectedPeer> select_peers(const std::vector<ConfigPeer>& configured,
                                       const std::vector<ipam::BGPPeer>& resources, const std::string& node,
                                       const ipam::Labels& labels) {
  static const std::map<std::string, ipam::Node> no_nodes;
  return select_peers({configured, resources, no_nodes, node, labels});
}

}  // namespace blockd::agent
