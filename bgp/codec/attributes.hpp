// Path attributes (RFC 4271 §5, RFC 4760, RFC 6793, RFC 1997, RFC 8092) and the UPDATE's
// meaning: what it announces and withdraws, with RFC 7606's error handling decided per
// attribute in one table (attributes.cpp, in the manner of BIRD's attrs.c).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bgp/codec/capabilities.hpp"
#include "bgp/codec/message.hpp"
#include "ipam/net/prefix.hpp"

namespace blockd::bgp {

using ipam::Address;
using ipam::Prefix;

namespace attr {
inline constexpr std::uint8_t kOptional = 0x80, kTransitive = 0x40, kPartial = 0x20, kExtendedLength = 0x10;
inline constexpr std::uint8_t kOrigin = 1, kAsPath = 2, kNextHop = 3, kMed = 4, kLocalPref = 5,
                              kAtomicAggregate = 6, kAggregator = 7, kCommunities = 8,
                              kOriginatorId = 9, kClusterList = 10, kMpReach = 14, kMpUnreach = 15,
                              kExtendedCommunities = 16, kAs4Path = 17, kAs4Aggregator = 18,
                              kLargeCommunities = 32;
}  // namespace attr

enum class Origin : std::uint8_t { Igp = 0, Egp = 1, Incomplete = 2 };

enum class SegmentType : std::uint8_t { Set = 1, Sequence = 2, ConfedSequence = 3, ConfedSet = 4 };

struct AsPathSegment {
  SegmentType type = SegmentType::Sequence;
  std::vector<std::uint32_t> asns;
  friend bool operator==(const AsPathSegment&, const AsPathSegment&) = default;
};
using AsPath = std::vector<AsPathSegment>;
std::string to_string(const AsPath& path);  // "65001 65002 {65003,65004}"
bool contains_as(const AsPath& path, std::uint32_t as);
std::size_t count_as(const AsPath& path, std::uint32_t as);  // occurrences in every segment

struct LargeCommunity {
  std::uint32_t global = 0, local1 = 0, local2 = 0;
  friend auto operator<=>(const LargeCommunity&, const LargeCommunity&) = default;
};

struct PathAttributes {
  std::optional<Origin> origin;
  std::optional<AsPath> as_path;
  std::optional<Address> next_hop;  // NEXT_HOP: IPv4 NLRI in the UPDATE's own NLRI field
  std::optional<std::uint32_t> med;
  std::optional<std::uint32_t> local_pref;
  bool atomic_aggregate = false;
  std::vector<std::uint32_t> communities;
  std::vector<LargeCommunity> large_communities;
  // RFC 4456 §8: the BGP Identifier of the route's originator, set by a route reflector.
  std::optional<std::uint32_t> originator_id;
  // MP_REACH_NLRI's next hop (RFC 4760 §3; for IPv6, RFC 2545 §3: global, then link-local).
  std::optional<Address> mp_next_hop;
  std::optional<Address> mp_next_hop_link_local;
  friend bool operator==(const PathAttributes&, const PathAttributes&) = default;
};

// RFC 7606 §2 approaches, in order of severity.
enum class UpdateAction : std::uint8_t { Accept, AttributeDiscard, TreatAsWithdraw, SessionReset };
const char* action_name(UpdateAction a);

struct SessionContext {
  bool four_octet_as = true;
  bool ebgp = true;
};

// What one UPDATE means once its attributes are checked.
struct ParsedUpdate {
  UpdateAction action = UpdateAction::Accept;
  PathAttributes attributes;
  std::vector<Prefix> announced;  // NLRI and MP_REACH NLRI (none on treat-as-withdraw)
  std::vector<Prefix> withdrawn;  // withdrawn routes, MP_UNREACH and, on treat-as-withdraw, the NLRI
  std::optional<WireError> reset;  // the NOTIFICATION when action is SessionReset
  std::vector<std::string> problems;  // one line per attribute discarded or malformed, for the log
  // RFC 4724 §2: an UPDATE with nothing in it (IPv4) or an empty MP_UNREACH (other families).
  std::optional<AddressFamily> end_of_rib;
};

ParsedUpdate parse_update(const UpdateMessage& update, const SessionContext& context);

// Encoding. Prefixes are packed as RFC 4271 §4.3 says: length octet, then the significant octets.
std::size_t prefix_wire_size(const Prefix& p);
void put_prefix(Bytes& out, const Prefix& p);

// The attributes of attrs other than MP_REACH/MP_UNREACH, in type-code order.
void encode_attributes(const PathAttributes& attrs, bool four_octet_as, Bytes& out);

// A complete UPDATE: IPv4 prefixes in the classic fields, IPv6 ones in MP_REACH/MP_UNREACH
// (with attrs.mp_next_hop). The caller keeps it within the size limit (update_packer does).
Bytes build_update(const PathAttributes& attrs, const std::vector<Prefix>& announce,
                   const std::vector<Prefix>& withdraw, bool four_octet_as);
Bytes build_end_of_rib(AddressFamily family);

}  // namespace blockd::bgp
