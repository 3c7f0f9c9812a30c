// The rules of Calico's resource reference. Each error names the resource, the field and the
// rule: `IPPool rack-0-ippool: spec.cidr: 169.254.0.0/24 overlaps the link-local range 169.254.0.0/16`.
#pragma once

#include <vector>

#include "ipam/resources/resources.hpp"
#include "ipam/net/result.hpp"

namespace blockd::ipam {

// Rules of one resource on its own. For IPPool also fills defaults: blockSize 0 -> 26 (IPv4) /
// 122 (IPv6); empty nodeSelector -> all().
Status validate(Resource& r);

// Rules against the pools already stored: no overlap with another pool; cidr and blockSize
// cannot change (previous is the stored version of the same pool, if any).
Status validate_pool_change(const IPPool& pool, const std::vector<IPPool>& existing,
                            const IPPool* previous);

// A BGPPeer for one node (spec.node) against that node: the node needs an address of the
// peer's family to peer from (the speaker refuses the peer otherwise).
Status validate_peer_for_node(const BGPPeer& peer, const Node& node);

// Resource names: alphanumerics with optional '.', '_' or '-' (Calico's IPPool name rule),
// at most 253 characters, starting and ending with an alphanumeric.
bool valid_resource_name(std::string_view name);

}  // namespace blockd::ipam
