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

void join_filters(const std::vector<std::string>& names, const std::vector<ipam::BGPFilter>& filters,
                  ipam::FilterRules& export_rules, ipam::FilterRules& import_rules, std::vector<std::string>& missing) {
  auto append = [](std::vector<ipam::FilterRule>& to, const std::vector<ipam::FilterRule>& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  for (const auto& name : names) {
    auto f = std::find_if(filters.begin(), filters.end(), [&](const ipam::BGPFilter& x) { return x.name == name; });
    if (f == filters.end()) {
      missing.push_back(name);
      continue;
    }
    append(export_rules.v4, f->export_rules.v4);
    append(export_rules.v6, f->export_rules.v6);
    append(import_rules.v4, f->import_rules.v4);
    append(import_rules.v6, f->import_rules.v6);
  }
}

std::vector<SelectedPeer> select_peers(const PeerSelectionInput& in) {
  std::vector<SelectedPeer> out;
  // `resource`: the BGPPeer the session comes from, whose options and filters it gets.
  auto add = [&](bgp::PeerConfig p, std::string source, std::string type, const std::optional<BfdProfile>& bfd,
                 const ipam::BGPPeer* resource = nullptr) {
    const bool known = std::any_of(out.begin(), out.end(), [&](const SelectedPeer& s) { return s.config.address == p.address; });
    if (known) return;
    p.bfd = bfd.has_value();
    ipam::FilterRules import_rules;
    std::vector<std::string> missing;
    if (resource) {
      const auto& r = *resource;
      if (!r.password.empty()) p.password = r.password;
      if (r.ttl_security != 0) p.ttl_security_hops = static_cast<int>(r.ttl_security);
      if (r.max_restart_time) p.restart_time = static_cast<std::uint16_t>(*r.max_restart_time);
      p.allowed_own_as = r.num_allowed_local_as_numbers;
      if (r.source_address == ipam::SourceAddress::UseNodeIP && in.node_addresses) {
        for (const auto& a : *in.node_addresses) {
          if (a.family() == p.address.family()) p.local_address = a;
        }
      }
      static const std::vector<ipam::BGPFilter> no_filters;
      join_filters(r.filters, in.filters ? *in.filters : no_filters, p.export_filter, import_rules, missing);
    }
    std::optional<ipam::Address> reachable_by;
    if (resource) reachable_by = resource->reachable_by;
    out.push_back({std::move(p), std::move(source), std::move(type), bfd, std::move(import_rules), std::move(missing),
                   reachable_by});
  };
  // A node as a peer: its IPv4 address, and its IPv6 one when this node has one too (a session
  // per family, as Calico's BIRD configuration has).
  const auto self = in.nodes.find(in.node);
  const bool self_v6 = self != in.nodes.end() && self->second.ipv6_address.has_value();
  auto add_node = [&](const ipam::Node& n, const std::string& source, const std::string& type,
                      const std::optional<BfdProfile>& bfd, const ipam::BGPPeer* resource) {
    if (n.name == in.node) return;  // Calico: a node never peers with itself
    for (const auto& a : {n.ipv4_address, self_v6 ? n.ipv6_address : std::nullopt}) {
      if (!a) continue;
      bgp::PeerConfig p;
      p.address = a->address;
      p.peer_as = n.as_number.value_or(in.default_as);
      p.port = in.peer_port;
      if (!resource && in.mesh_restart_time) p.restart_time = *in.mesh_restart_time;  // the mesh
      add(std::move(p), source, type, bfd, resource);
    }
  };
  for (const auto& c : in.configured) {
    bgp::PeerConfig p;
    p.address = c.address;
    p.peer_as = c.as_number;
    p.password = c.password;
    p.port = c.port;
    p.passive = c.passive;
    p.local_address = c.local_address;
    add(std::move(p), "config", "config", c.bfd);
  }
  for (const auto& r : in.resources) {
    if (!r.node.empty() && r.node != in.node) continue;
    if (!r.node_selector.empty() && !selector_matches(r.node_selector, in.labels)) continue;
    const std::string type = r.node.empty() && r.node_selector.empty() ? "global" : "node specific";
    if (!r.peer_selector.empty()) {
      for (const auto& [name, n] : in.nodes) {
        if (selector_matches(r.peer_selector, n.labels)) add_node(n, "BGPPeer/" + r.name, type, r.bfd, &r);
      }
      continue;
    }
    bgp::PeerConfig p;
    p.address = r.peer_ip;
    p.peer_as = r.as_number;
    if (r.port) p.port = *r.port;
    add(std::move(p), "BGPPeer/" + r.name, type, r.bfd, &r);
  }
  if (in.node_to_node_mesh) {
    for (const auto& [name, n] : in.nodes) add_node(n, "Node/" + name, "node-to-node mesh", std::nullopt, nullptr);
  }
  return out;
}

std::vector<SelectedPeer> select_peers(const std::vector<ConfigPeer>& configured,
                                       const std::vector<ipam::BGPPeer>& resources, const std::string& node,
                                       const ipam::Labels& labels, const std::vector<ipam::BGPFilter>& filters,
                                       const std::vector<ipam::Address>& node_addresses) {
  static const std::map<std::string, ipam::Node> no_nodes;
  return select_peers(
      {configured, resources, no_nodes, node, labels, false, 0, 179, std::nullopt, &filters, &node_addresses});
}

}  // namespace blockd::agent
