// Which BGP peers this node has: the config file's peers, then every BGPPeer resource that
// selects this node (Calico: spec.node names one node, spec.nodeSelector selects nodes by
// label, neither means every node). The config file wins for an address both name. Pure.
// Source addresses: a config peer's localAddress; a BGPPeer's sourceAddress UseNodeIP (Calico's
// default) binds to the node's address of the peer's family in `node_addresses`, None to none.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/config.hpp"
#include "bgp/speaker.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::agent {

struct SelectedPeer {
  bgp::PeerConfig config;
  std::string source;  // "config" | "BGPPeer/<name>"
  std::string type;    // as calicoctl shows it: "config" | "global" | "node specific"
  std::optional<BfdProfile> bfd;  // set when the peer asks for BFD (config.bfd is then true)
  // The import rules of the peer's BGPFilters (the export rules are in config.export_filter).
  ipam::FilterRules import_filter{};
  std::vector<std::string> missing_filters{};  // spec.filters names no BGPFilter has
};

// A BGPPeer's filters, in its order: their rules of each direction joined (the first matching
// rule of the first filter that has one decides, Calico's BGPFilter order). Names without a
// BGPFilter are listed in `missing`.
void join_filters(const std::vector<std::string>& names, const std::vector<ipam::BGPFilter>& filters,
                  ipam::FilterRules& export_rules, ipam::FilterRules& import_rules, std::vector<std::string>& missing);

std::vector<SelectedPeer> select_peers(const std::vector<ConfigPeer>& configured,
                                       const std::vector<ipam::BGPPeer>& resources, const std::string& node,
                                       const ipam::Labels& labels, const std::vector<ipam::BGPFilter>& filters = {},
                                       const std::vector<ipam::Address>& node_addresses = {});

}  // namespace blockd::agent
