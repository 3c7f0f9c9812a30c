// Export policy: the attributes each advertised route carries to one peer.
// blockd only originates (RFC 4271 §9.1.3 for its own routes): ORIGIN IGP; eBGP gets AS_PATH of
// our AS and no LOCAL_PREF (RFC 4271 §5.1.5); iBGP gets an empty AS_PATH and LOCAL_PREF 100;
// the next hop is ours on the session unless the route names one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bgp/codec/attributes.hpp"
#include "ipam/net/route_filter.hpp"

namespace blockd::bgp {

struct AdvertisedRoute {
  Prefix prefix;
  std::optional<Address> next_hop;  // default: self (the session's local address)
  std::vector<std::uint32_t> communities;          // RFC 1997
  std::vector<LargeCommunity> large_communities{};  // RFC 8092
  // The interface the route goes out of in the kernel (BGPFilter `interface` rules); empty: none.
  std::string interface{};
  friend bool operator==(const AdvertisedRoute&, const AdvertisedRoute&) = default;
};

struct ExportContext {
  std::uint32_t local_as = 0;
  bool ebgp = true;
  std::optional<Address> self_v4;  // our address on the session, per family
  std::optional<Address> self_v6;
  std::vector<AddressFamily> families;  // negotiated
  ipam::FilterRules export_filter{};    // the peer's BGPFilter export rules (ipam/net/route_filter.hpp)
};

// Whether the peer's export filter lets the route out (blockd's routes are its own, never a
// remote peer's: a rule with source RemotePeers does not match them).
bool export_allowed(const AdvertisedRoute& route, const ExportContext& context);
// nullopt when the peer cannot take the route: family not negotiated, or no next hop of its family.
std::optional<PathAttributes> export_attributes(const AdvertisedRoute& route, const ExportContext& context);

}  // namespace blockd::bgp
