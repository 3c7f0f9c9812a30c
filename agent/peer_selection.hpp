// Which BGP peers this node has: the config file's peers, then every BGPPeer resource that
// selects this node (Calico: spec.node names one node, spec.nodeSelector selects nodes by
// label, neither means every node), then, with nodeToNodeMeshEnabled, every other node (iBGP
// full mesh). A BGPPeer with spec.peerSelector peers with the Nodes it selects, at their own
// addresses and AS numbers (Calico's route-reflector recipe). The first source to name an
// address wins: the config file, then BGPPeers, then the mesh. Pure.
// Source addresses: a config peer's localAddress; a BGPPeer's sourceAddress (below).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.hpp"
#include "bgp/speaker.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::agent {

struct SelectedPeer {
  bgp::PeerConfig config;
  std::string source;  // "config" | "BGPPeer/<name>" | "Node/<name>" (mesh)
  std::string type;    // as calicoctl shows it: "config" | "global" | "node specific" | "node-to-node mesh"
  std::optional<BfdProfile> bfd;  // set when the peer asks for BFD (config.bfd is then true)
  // The import rules of the peer's BGPFilters (the export rules are in config.export_filter).
  ipam::FilterRules import_filter{};
  std::vector<std::string> missing_filters{};  // spec.filters names no BGPFilter has
  // BGPPeer spec.reachableBy: the gateway the kernel routes the peer's address through
  // (Calico's static /32 route to the peer), so the session goes out where the operator says.
  std::optional<ipam::Address> reachable_by{};
};

// A BGPPeer's filters, in its order: their rules of each direction joined (the first matching
// rule of the first filter that has one decides, Calico's BGPFilter order). Names without a
// BGPFilter are listed in `missing`.
void join_filters(const std::vector<std::string>& names, const std::vector<ipam::BGPFilter>& filters,
                  ipam::FilterRules& export_rules, ipam::FilterRules& import_rules, std::vector<std::string>& missing);

struct PeerSelectionInput {
  const std::vector<ConfigPeer>& configured;
  const std::vector<ipam::BGPPeer>& resources;
  const std::map<std::string, ipam::Node>& nodes;  // peerSelector and the mesh pick from these
  const std::string& node;                         // this node's name
  const ipam::Labels& labels;                      // this node's labels
  bool node_to_node_mesh = false;
  std::uint32_t default_as = 0;   // a selected Node's AS when it names none (BGPConfiguration)
  std::uint16_t peer_port = 179;  // where the selected nodes listen (BGPConfiguration listenPort)
  // BGPConfiguration nodeMeshMaxRestartTime: our graceful-restart time to mesh peers.
  std::optional<std::uint16_t> mesh_restart_time = std::nullopt;
  const std::vector<ipam::BGPFilter>* filters = nullptr;  // what BGPPeer spec.filters name
  // This node's addresses: a BGPPeer's sourceAddress UseNodeIP (Calico's default) binds its
  // session to the one of the peer's family; None leaves the source to the kernel.
  const std::vector<ipam::Address>* node_addresses = nullptr;
};

std::vector<SelectedPeer> select_peers(const PeerSelectionInput& in);

// The config file and BGPPeer resources alone (no peerSelector nodes, no mesh).
std::vector<SelectedPeer> select_peers(const std::vector<ConfigPeer>& configured,
                                       const std::vector<ipam::BGPPeer>& resources, const std::string& node,
                                       const ipam::Labels& labels, const std::vector<ipam::BGPFilter>& filters = {},
                                       const std::vector<ipam::Address>& node_addresses = {});

}  // namespace blockd::agent
