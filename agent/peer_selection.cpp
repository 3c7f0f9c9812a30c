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

std::vector<SelectedPeer> select_peers(const std::vector<ConfigPeer>& configured,
                                       const std::vector<ipam::BGPPeer>& resources, const std::string& node,
                                       const ipam::Labels& labels, const std::vector<ipam::BGPFilter>& filters,
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
    if (r.ttl_security != 0) p.ttl_security_hops = static_cast<int>(r.ttl_security);
    if (r.max_restart_time) p.restart_time = static_cast<std::uint16_t>(*r.max_restart_time);
    p.allowed_own_as = r.num_allowed_local_as_numbers;
    ipam::FilterRules import_rules;
    std::vector<std::string> missing;
    join_filters(r.filters, filters, p.export_filter, import_rules, missing);
    const std::size_t before = out.size();
    add(std::move(p), "BGPPeer/" + r.name, r.node.empty() && r.node_selector.empty() ? "global" : "node specific",
        r.bfd);
    if (out.size() > before) {
      out.back().import_filter = std::move(import_rules);
      out.back().missing_filters = std::move(missing);
    }
  }
  return out;
}

}  // namespace blockd::agent
