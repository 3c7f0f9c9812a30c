// BGP communities as Calico's BGPConfiguration writes them: spec.communities names values,
// standard "aa:nn" (RFC 1997, two 16-bit halves) or large "aa:nn:mm" (RFC 8092, three 32-bit
// parts); spec.prefixAdvertisements tags a CIDR with communities, each a name from
// spec.communities, a literal value, or a well-known name (no-export, no-advertise,
// no-export-subconfed: RFC 1997). Pure: validation checks with it, the agent tags routes with it.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ipam/net/prefix.hpp"
#include "ipam/net/result.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::ipam {

struct CommunitySet {
  std::vector<std::uint32_t> standard;               // (aa << 16) | nn
  std::vector<std::array<std::uint32_t, 3>> large;  // global administrator, data 1, data 2
  bool empty() const { return standard.empty() && large.empty(); }
  friend bool operator==(const CommunitySet&, const CommunitySet&) = default;
};

// "65000:100", "65000:1:2" or a well-known name, added to `out`; the error says what is wrong.
Status parse_community(std::string_view text, CommunitySet& out);

struct TaggedPrefix {
  Prefix cidr;
  CommunitySet communities;
  friend bool operator==(const TaggedPrefix&, const TaggedPrefix&) = default;
};

// spec.prefixAdvertisements with every community resolved; the error names the field
// ("spec.prefixAdvertisements[0].communities[1]: ...").
Result<std::vector<TaggedPrefix>> resolve_prefix_advertisements(const BGPConfiguration& config);

// The communities a route to `prefix` carries: those of every tagged CIDR holding it (BIRD's
// `net ~ cidr`, as Calico's generated filter tests it), sorted, without duplicates.
CommunitySet communities_for(const std::vector<TaggedPrefix>& tagged, const Prefix& prefix);

}  // namespace blockd::ipam
