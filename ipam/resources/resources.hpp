// The Calico-style resources blockd reads (apiVersion projectcalico.org/v3): IPPool, Node,
// BGPPeer, BGPConfiguration. Plain values; YAML/JSON conversion in resource_codec.cpp,
// rules in validation.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ipam/net/bfd_profile.hpp"
#include "ipam/net/encap_mode.hpp"
#include "ipam/net/prefix.hpp"
#include "ipam/net/result.hpp"
#include "ipam/net/route_filter.hpp"
#include "ipam/resources/labels.hpp"
#include "ipam/resources/selector.hpp"

namespace blockd::ipam {

// Calico's IPPool spec.assignmentMode: an Automatic pool serves any request whose node it
// selects; a Manual pool only a request that names it (Calico's determinePools).
enum class AssignmentMode { Automatic, Manual };
const char* assignment_mode_name(AssignmentMode m);

struct IPPool {
  std::string name;
  Labels labels;       // metadata.labels, Kubernetes rules (validation.cpp)
  Labels annotations;  // metadata.annotations, Kubernetes rules; kept, not used
  Prefix cidr;
  unsigned block_size = 0;  // 0 in input means "the family's default" (26 / 122)
  EncapMode ipip_mode = EncapMode::Never;
  EncapMode vxlan_mode = EncapMode::Never;
  bool nat_outgoing = false;
  bool disabled = false;
  std::string node_selector = "all()";
  AssignmentMode assignment_mode = AssignmentMode::Automatic;
  // Calico's spec.namespaceSelector: a CNI call carries no namespace labels, so blockd accepts
  // only a selector that picks every namespace ("" or all(); validation.cpp).
  std::string namespace_selector;
  // node_selector parsed, kept by the codec and validation so it is parsed once; pools built in
  // code leave it empty and selects() parses the text (pool_selection.hpp).
  ParsedSelector parsed_selector;
  // Extensions (ARCHITECTURE.md, Resources): allowedUses as in later Calico; strictAffinity per pool (Calico has
  // it cluster-wide in IPAMConfig): when true a node never borrows from another node's block.
  std::vector<std::string> allowed_uses = {"Workload", "Tunnel"};
  bool strict_affinity = false;
  // Calico's spec.disableBGPExport: the pool's blocks (and addresses borrowed from them) are
  // routed in the kernel as any other but never advertised over BGP.
  bool disable_bgp_export = false;

  friend bool operator==(const IPPool&, const IPPool&) = default;
};

// One entry of a Node's spec.addresses, as Calico writes it: {address: 10.0.0.10/24, type: CalicoNodeIP}.
struct NodeAddress {
  std::string address;  // an address, with or without a prefix length
  std::string type;     // CalicoNodeIP, InternalIP or ExternalIP

  friend bool operator==(const NodeAddress&, const NodeAddress&) = default;
};

struct Node {
  std::string name;
  Labels labels;
  std::optional<InterfaceAddress> ipv4_address;  // spec.bgp.ipv4Address, "10.0.0.10/24"
  std::optional<InterfaceAddress> ipv6_address;  // spec.bgp.ipv6Address
  std::optional<std::uint32_t> as_number;        // spec.bgp.asNumber
  std::optional<Address> ipv4_vxlan_tunnel_addr;  // spec.ipv4VXLANTunnelAddr
  std::string vxlan_tunnel_mac;                   // spec.vxlanTunnelMACAddr
  std::optional<Address> ipv6_vxlan_tunnel_addr;  // spec.ipv6VXLANTunnelAddr
  std::string vxlan_tunnel_mac_v6;                // spec.vxlanTunnelMACAddrV6
  std::optional<Address> ipv4_ipip_tunnel_addr;   // spec.bgp.ipv4IPIPTunnelAddr
  std::string route_reflector_cluster_id{};       // spec.bgp.routeReflectorClusterID (IPv4 form)
  std::vector<NodeAddress> addresses{};           // spec.addresses

  friend bool operator==(const Node&, const Node&) = default;
};

// BGPPeer spec.sourceAddress (Calico): UseNodeIP binds the session to the node's address of the
// peer's family; None leaves the source to the kernel (the address of the uplink toward the peer:
// a node with two uplinks then peers from each).
enum class SourceAddress : std::uint8_t { UseNodeIP, None };

struct BGPPeer {
  std::string name;
  Address peer_ip;
  std::uint32_t as_number = 0;
  std::string node;                // spec.node: peer of this one node only
  std::string node_selector;       // spec.nodeSelector: peer of the nodes it selects
  // spec.peerSelector (Calico's route-reflector recipe): instead of peerIP and asNumber, peer with
  // every node this selects, at its Node's address and AS (agent/peer_selection.cpp).
  std::string peer_selector;
  std::string password;            // TCP-MD5 (RFC 2385)
  std::optional<std::uint16_t> port;  // peerIP may be "addr:port" as in Calico
  std::optional<BfdProfile> bfd;      // spec.bfd (blockd's, MetalLB's field names): BFD on the session
  SourceAddress source_address = SourceAddress::UseNodeIP;  // spec.sourceAddress, Calico's default
  // spec.ttlSecurity: GTSM (RFC 5082) hops, 0 off: only packets with TTL >= 256 - hops are taken.
  unsigned ttl_security = 0;
  // spec.keepOriginalNextHop: blockd sends only routes it originates, whose next hop is this
  // node already; kept for Calico's YAML, it changes nothing (README, BGPPeer).
  bool keep_original_next_hop = false;
  std::optional<std::uint32_t> max_restart_time;  // spec.maxRestartTime in seconds: our graceful restart time
  // spec.numAllowedLocalASNumbers: how often our AS may appear in a received AS_PATH (0: the
  // RFC 4271 §9.1.2 loop check).
  unsigned num_allowed_local_as_numbers = 0;
  std::vector<std::string> filters;  // spec.filters: BGPFilter names, applied in this order
  // spec.reachableBy: the gateway the peer is reached through (Calico adds a /32 (/128) route to
  // the peer via it, so a peer off this subnet is reached over a chosen ToR); agent/peer_routes.hpp.
  std::optional<Address> reachable_by;

  friend bool operator==(const BGPPeer&, const BGPPeer&) = default;
};

struct NamedCommunity {
  std::string name;
  std::string value;  // "aa:nn" or "aa:nn:mm"
  friend bool operator==(const NamedCommunity&, const NamedCommunity&) = default;
};

struct PrefixAdvertisement {
  Prefix cidr;
  std::vector<std::string> communities;  // names from spec.communities, literal values, or well-known names
  friend bool operator==(const PrefixAdvertisement&, const PrefixAdvertisement&) = default;
};

// Calico's BGPConfiguration spec.bindMode: None listens on every address, NodeIP on the node's.
enum class BindMode { None, NodeIP };

struct BGPConfiguration {
  std::string name;  // "default" applies to all nodes; "node.<name>" to one node
  std::optional<std::uint32_t> as_number;
  std::optional<std::uint16_t> listen_port;
  std::optional<bool> node_to_node_mesh_enabled;
  std::string log_severity_screen;
  // spec.communities: named communities, standard "aa:nn" or large "aa:nn:mm" (bgp_communities.hpp).
  std::vector<NamedCommunity> communities;
  // spec.prefixAdvertisements: every advertised route inside a cidr carries its communities.
  std::vector<PrefixAdvertisement> prefix_advertisements;
  // spec.serviceClusterIPs / serviceExternalIPs / serviceLoadBalancerIPs: CIDRs every node advertises.
  std::vector<Prefix> service_cluster_ips;
  std::vector<Prefix> service_external_ips;
  std::vector<Prefix> service_load_balancer_ips;
  // spec.bindMode NodeIP: the BGP listener binds to the node's address, not the wildcard.
  std::optional<BindMode> bind_mode;
  // spec.nodeMeshMaxRestartTime in seconds: our graceful-restart time to node-to-node mesh peers.
  std::optional<std::uint32_t> node_mesh_max_restart_time;

  friend bool operator==(const BGPConfiguration&, const BGPConfiguration&) = default;
};

// Calico's IPReservation: addresses IPAM never hands out automatically (workloads, tunnel
// addresses, gateways), e.g. ones used by something outside the cluster.
struct IPReservation {
  std::string name;
  std::vector<Prefix> reserved_cidrs;  // spec.reservedCIDRs; a bare address is its /32 (/128)

  friend bool operator==(const IPReservation&, const IPReservation&) = default;
};

// Calico's IPAMConfiguration (one, named "default"): cluster-wide IPAM behaviour.
struct IPAMConfiguration {
  std::string name;
  bool strict_affinity = false;       // no node borrows from another node's block
  std::uint32_t max_blocks_per_host = 0;  // 0: no limit
  bool auto_allocate_blocks = true;   // false: a node never claims a block on its own

  friend bool operator==(const IPAMConfiguration&, const IPAMConfiguration&) = default;
};

// Calico's BGPFilter: rules on what a peer is sent (export) and what is taken from it (import),
// attached to peers by BGPPeer spec.filters (evaluation: ipam/net/route_filter.hpp).
struct BGPFilter {
  std::string name;
  FilterRules export_rules;  // spec.exportV4, spec.exportV6
  FilterRules import_rules;  // spec.importV4, spec.importV6

  friend bool operator==(const BGPFilter&, const BGPFilter&) = default;
};

using Resource =
    std::variant<IPPool, Node, BGPPeer, BGPConfiguration, BGPFilter, IPReservation, IPAMConfiguration>;

// The Calico kind of a resource ("IPPool") and its name.
std::string kind_of(const Resource& r);
std::string name_of(const Resource& r);

// Resource kind from a CLI word, accepting Calico's aliases in any case
// (ippool ippools ipp ipps pool pools; node nodes no; bgppeer bgppeers bgpp bgpps;
// bgpconfiguration bgpconfigurations bgpconfig bgpconfigs; bgpfilter bgpfilters). Returns the canonical kind.
Result<std::string> canonical_kind(std::string_view word);

}  // namespace blockd::ipam
