#include "bgp/codec/attributes.hpp"

#include <algorithm>
#include <array>
#include <bitset>

namespace blockd::bgp {

const char* action_name(UpdateAction a) {
  switch (a) {
    case UpdateAction::Accept: return "accept";
    case UpdateAction::AttributeDiscard: return "attribute-discard";
    case UpdateAction::TreatAsWithdraw: return "treat-as-withdraw";
    case UpdateAction::SessionReset: return "session-reset";
  }
  return "?";
}

std::string to_string(const AsPath& path) {
  std::string s;
  for (const auto& seg : path) {
    const bool set = seg.type == SegmentType::Set || seg.type == SegmentType::ConfedSet;
    if (!s.empty()) s += ' ';
    if (set) s += '{';
    for (std::size_t i = 0; i < seg.asns.size(); ++i) {
      if (i) s += set ? "," : " ";
      s += std::to_string(seg.asns[i]);
    }
    if (set) s += '}';
  }
  return s;
}

std::size_t count_as(const AsPath& path, std::uint32_t as) {
  std::size_t n = 0;
  for (const auto& s : path) n += static_cast<std::size_t>(std::ranges::count(s.asns, as));
  return n;
}

bool contains_as(const AsPath& path, std::uint32_t as) {
  return std::ranges::any_of(path, [&](const AsPathSegment& s) { return std::ranges::find(s.asns, as) != s.asns.end(); });
}

namespace {

// The first `count` octets at `at` (fewer than a Word's) as the high octets of a big-endian
// Word, the rest zero.
template <class Word>
Word leading_octets(const std::uint8_t* at, std::size_t count) {
  Word v = 0;
  for (std::size_t i = 0; i < count; ++i) v |= static_cast<Word>(Word{at[i]} << (8 * (sizeof(Word) - 1 - i)));
  return v;
}

// Prefixes as RFC 4271 §4.3 packs them: a length octet, then the octets that length needs;
// false when one cannot be parsed (RFC 7606 §5.3). Where a whole address's octets follow the
// length octet, they are read in one load: the octets past the prefix's own belong to the next
// prefix, and the length's mask (the Prefix constructor) clears them.
template <ipam::Family F>
bool parse_prefixes_of(ByteView data, std::vector<Prefix>& out) {
  constexpr unsigned kMaxBits = F == ipam::Family::V4 ? 32 : 128;
  constexpr std::size_t kAddressOctets = kMaxBits / 8;
  // Room for prefixes of the usual lengths (/24 to /32 in IPv4, /48 to /64 in IPv6) in one go.
  out.reserve(out.size() + data.size() / (F == ipam::Family::V4 ? 4 : 8));
  const std::uint8_t* at = data.data();
  const std::uint8_t* const end = at + data.size();
  auto octets_for = [](unsigned length) -> std::size_t { return (length + 7) / 8; };
  while (at != end) {
    // Prefixes taking the same number of octets come in runs (/26 blocks and /32 hosts both take
    // 4, /17 to /24 take 3): within a run the next prefix's place is known before its length
    // octet is read, so the loop does not wait on that load; the branch predictor checks it.
    const std::size_t octets = octets_for(*at);
    do {
      const unsigned length = *at++;
      if (length > kMaxBits) return false;
      const auto left = static_cast<std::size_t>(end - at);
      if (left < octets) return false;
      if constexpr (F == ipam::Family::V4) {
        const std::uint32_t value =
            left >= kAddressOctets ? load_big_endian<std::uint32_t>(at) : leading_octets<std::uint32_t>(at, octets);
        out.emplace_back(Prefix::V4{value}, length);
      } else if (left >= kAddressOctets) {
        out.emplace_back(Prefix::V6{load_big_endian<std::uint64_t>(at), load_big_endian<std::uint64_t>(at + 8)}, length);
      } else {
        const std::uint64_t high =
            octets >= 8 ? load_big_endian<std::uint64_t>(at) : leading_octets<std::uint64_t>(at, octets);
        const std::uint64_t low = octets > 8 ? leading_octets<std::uint64_t>(at + 8, octets - 8) : 0;
        out.emplace_back(Prefix::V6{high, low}, length);
      }
      at += octets;
    } while (at != end && octets_for(*at) == octets);
  }
  return true;
}

bool parse_prefixes(ByteView data, ipam::Family family, std::vector<Prefix>& out) {
  return family == ipam::Family::V4 ? parse_prefixes_of<ipam::Family::V4>(data, out)
                                    : parse_prefixes_of<ipam::Family::V6>(data, out);
}

bool parse_as_path(ByteView data, bool four_octet, AsPath& out) {
  WireReader r(data);
  while (!r.empty()) {
    std::uint8_t type = 0;
    std::uint8_t count = 0;
    // RFC 7606 §7.2: bad segment type, zero-length segment, overrun or underrun.
    if (!r.u8(type) || !r.u8(count)) return false;
    if (type < 1 || type > 4 || count == 0) return false;
    AsPathSegment seg{static_cast<SegmentType>(type), {}};
    seg.asns.reserve(count);
    for (unsigned i = 0; i < count; ++i) {
      if (four_octet) {
        std::uint32_t as = 0;
        if (!r.u32(as)) return false;
        seg.asns.push_back(as);
      } else {
        std::uint16_t as = 0;
        if (!r.u16(as)) return false;
        seg.asns.push_back(as);
      }
    }
    out.push_back(std::move(seg));
  }
  return true;
}

// RFC 6793 §4.2.3: the number of ASes a path counts for (a set counts once, confederation
// segments not at all).
std::size_t path_count(const AsPath& p) {
  std::size_t n = 0;
  for (const auto& s : p) {
    if (s.type == SegmentType::Sequence) n += s.asns.size();
    else if (s.type == SegmentType::Set) n += 1;
  }
  return n;
}

// RFC 6793 §4.2.3: the leading part of AS_PATH that AS4_PATH does not cover, then AS4_PATH.
AsPath merge_as4_path(const AsPath& as_path, const AsPath& as4_path) {
  const std::size_t n = path_count(as_path);
  const std::size_t n4 = path_count(as4_path);
  if (n < n4) return as_path;
  std::size_t keep = n - n4;
  AsPath merged;
  for (const auto& s : as_path) {
    if (keep == 0) break;
    if (s.type == SegmentType::Sequence) {
      AsPathSegment part{s.type, {}};
      for (auto as : s.asns) {
        if (keep == 0) break;
        part.asns.push_back(as);
        --keep;
      }
      merged.push_back(std::move(part));
    } else {
      merged.push_back(s);
      if (s.type == SegmentType::Set) --keep;
    }
  }
  merged.insert(merged.end(), as4_path.begin(), as4_path.end());
  return merged;
}

struct Verdict {
  UpdateAction action = UpdateAction::Accept;
  std::string why;
  std::uint8_t subcode = 0;  // for SessionReset
};
Verdict ok() { return {}; }
Verdict withdraw(std::string why) { return {UpdateAction::TreatAsWithdraw, std::move(why)}; }
Verdict discard(std::string why) { return {UpdateAction::AttributeDiscard, std::move(why)}; }
Verdict reset(std::uint8_t subcode, std::string why) { return {UpdateAction::SessionReset, std::move(why), subcode}; }

// State while one UPDATE's attributes are read.
struct Reading {
  const SessionContext& context;
  PathAttributes& attrs;
  std::optional<AsPath> as4_path;
  std::vector<Prefix> mp_announced;
  std::vector<Prefix> mp_withdrawn;
  std::optional<AddressFamily> mp_unreach_family;
};

std::optional<ipam::Family> family_of(std::uint16_t afi, std::uint8_t safi) {
  if (safi != kSafiUnicast) return std::nullopt;
  if (afi == 1) return ipam::Family::V4;
  if (afi == 2) return ipam::Family::V6;
  return std::nullopt;
}

Verdict decode_origin(ByteView v, Reading& r) {
  if (v.size() != 1 || v[0] > 2) return withdraw("ORIGIN must be one octet of 0, 1 or 2");
  r.attrs.origin = static_cast<Origin>(v[0]);
  return ok();
}

Verdict decode_as_path(ByteView v, Reading& r) {
  AsPath path;
  if (!parse_as_path(v, r.context.four_octet_as, path)) return withdraw("AS_PATH malformed");
  r.attrs.as_path = std::move(path);
  return ok();
}

Verdict decode_next_hop(ByteView v, Reading& r) {
  if (v.size() != 4) return withdraw("NEXT_HOP length is not 4");
  r.attrs.next_hop = ipam::Address::from_bytes(ipam::Family::V4, v);
  return ok();
}

Verdict decode_u32(ByteView v, std::optional<std::uint32_t>& out, const char* name) {
  WireReader rd(v);
  std::uint32_t x = 0;
  if (v.size() != 4 || !rd.u32(x)) return withdraw(std::string(name) + " length is not 4");
  out = x;
  return ok();
}

Verdict decode_med(ByteView v, Reading& r) { return decode_u32(v, r.attrs.med, "MULTI_EXIT_DISC"); }

Verdict decode_local_pref(ByteView v, Reading& r) {
  // RFC 7606 §7.5: LOCAL_PREF from an external peer is discarded.
  if (r.context.ebgp) return discard("LOCAL_PREF from an eBGP peer");
  return decode_u32(v, r.attrs.local_pref, "LOCAL_PREF");
}

Verdict decode_atomic_aggregate(ByteView v, Reading& r) {
  if (!v.empty()) return discard("ATOMIC_AGGREGATE length is not 0");  // RFC 7606 §7.6
  r.attrs.atomic_aggregate = true;
  return ok();
}

Verdict decode_aggregator(ByteView v, Reading& r) {
  // RFC 7606 §7.7: the length follows the session's AS size; otherwise discard.
  if (v.size() != (r.context.four_octet_as ? 8u : 6u)) return discard("AGGREGATOR length is wrong");
  return ok();  // not needed by a speaker that originates only: not parsed further
}

Verdict decode_communities(ByteView v, Reading& r) {
  if (v.empty() || v.size() % 4 != 0) return withdraw("COMMUNITIES length is not a non-zero multiple of 4");
  WireReader rd(v);
  r.attrs.communities.clear();
  for (std::uint32_t c = 0; rd.u32(c);) r.attrs.communities.push_back(c);
  return ok();
}

Verdict decode_originator_id(ByteView v, Reading& r) {
  if (r.context.ebgp) return discard("ORIGINATOR_ID from an eBGP peer");  // RFC 7606 §7.9
  if (v.size() != 4) return withdraw("ORIGINATOR_ID length is not 4");
  WireReader rd(v);
  std::uint32_t id = 0;
  rd.u32(id);
  r.attrs.originator_id = id;
  return ok();
}

Verdict decode_cluster_list(ByteView v, Reading& r) {
  if (r.context.ebgp) return discard("CLUSTER_LIST from an eBGP peer");  // RFC 7606 §7.10
  if (v.empty() || v.size() % 4 != 0) return withdraw("CLUSTER_LIST length is not a non-zero multiple of 4");
  return ok();
}

Verdict decode_mp_reach(ByteView v, Reading& r) {
  WireReader rd(v);
  std::uint16_t afi = 0;
  std::uint8_t safi = 0;
  std::uint8_t nh_length = 0;
  ByteView nh;
  std::uint8_t reserved = 0;
  if (!rd.u16(afi) || !rd.u8(safi) || !rd.u8(nh_length) || !rd.take(nh_length, nh) || !rd.u8(reserved)) {
    return reset(err::kOptionalAttribute, "MP_REACH_NLRI is too short");
  }
  const auto family = family_of(afi, safi);
  // RFC 4760 §7: a family we do not speak is ignored, not parsed.
  if (!family) return discard("MP_REACH_NLRI for AFI " + std::to_string(afi) + " SAFI " + std::to_string(safi));
  // RFC 7606 §7.11: a next-hop length inconsistent with the AFI is a session reset.
  if (*family == ipam::Family::V4 && nh_length != 4) {
    return reset(err::kOptionalAttribute, "MP_REACH_NLRI IPv4 next hop length " + std::to_string(nh_length));
  }
  if (*family == ipam::Family::V6 && nh_length != 16 && nh_length != 32) {
    return reset(err::kOptionalAttribute, "MP_REACH_NLRI IPv6 next hop length " + std::to_string(nh_length));
  }
  if (!parse_prefixes(rd.rest(), *family, r.mp_announced)) {
    return reset(err::kInvalidNetwork, "MP_REACH_NLRI prefix cannot be parsed");
  }
  r.attrs.mp_next_hop = ipam::Address::from_bytes(*family, nh.subspan(0, nh_length == 4 ? 4 : 16));
  if (nh_length == 32) r.attrs.mp_next_hop_link_local = ipam::Address::from_bytes(*family, nh.subspan(16, 16));
  return ok();
}

Verdict decode_mp_unreach(ByteView v, Reading& r) {
  WireReader rd(v);
  std::uint16_t afi = 0;
  std::uint8_t safi = 0;
  if (!rd.u16(afi) || !rd.u8(safi)) return reset(err::kOptionalAttribute, "MP_UNREACH_NLRI is too short");
  const auto family = family_of(afi, safi);
  if (!family) return discard("MP_UNREACH_NLRI for AFI " + std::to_string(afi) + " SAFI " + std::to_string(safi));
  if (!parse_prefixes(rd.rest(), *family, r.mp_withdrawn)) {
    return reset(err::kInvalidNetwork, "MP_UNREACH_NLRI prefix cannot be parsed");
  }
  r.mp_unreach_family = AddressFamily{afi, safi};
  return ok();
}

Verdict decode_extended_communities(ByteView v, Reading&) {
  if (v.size() % 8 != 0) return withdraw("EXTENDED_COMMUNITIES length is not a multiple of 8");
  return ok();
}

Verdict decode_as4_path(ByteView v, Reading& r) {
  // RFC 6793 §4.1: a 4-octet speaker ignores AS4_PATH; §6: malformed is discarded.
  if (r.context.four_octet_as) return discard("AS4_PATH on a 4-octet AS session");
  AsPath path;
  if (!parse_as_path(v, true, path)) return discard("AS4_PATH malformed");
  r.as4_path = std::move(path);
  return ok();
}

Verdict decode_as4_aggregator(ByteView v, Reading&) {
  if (v.size() != 8) return discard("AS4_AGGREGATOR length is not 8");
  return ok();
}

Verdict decode_large_communities(ByteView v, Reading& r) {
  if (v.empty() || v.size() % 12 != 0) {
    return withdraw("LARGE_COMMUNITIES length is not a non-zero multiple of 12");
  }
  WireReader rd(v);
  r.attrs.large_communities.clear();
  LargeCommunity c;
  while (rd.u32(c.global) && rd.u32(c.local1) && rd.u32(c.local2)) r.attrs.large_communities.push_back(c);
  return ok();
}

using Decoder = Verdict (*)(ByteView, Reading&);

// One row per attribute we know: expected Optional/Transitive bits, what a flag conflict
// means (RFC 7606 §3c: treat-as-withdraw unless the attribute's rules say otherwise) and the
// decoder, which returns the attribute's own RFC 7606 §7 action when the value is malformed.
struct AttributeRule {
  std::uint8_t type;
  const char* name;
  std::uint8_t flags;
  UpdateAction bad_flags;
  Decoder decode;
};

constexpr std::uint8_t kWellKnown = attr::kTransitive;
constexpr std::uint8_t kOptTrans = attr::kOptional | attr::kTransitive;
constexpr std::uint8_t kOptNonTrans = attr::kOptional;
constexpr auto kWithdraw = UpdateAction::TreatAsWithdraw;
constexpr auto kDiscard = UpdateAction::AttributeDiscard;

constexpr AttributeRule kRules[] = {
    {attr::kOrigin, "ORIGIN", kWellKnown, kWithdraw, decode_origin},
    {attr::kAsPath, "AS_PATH", kWellKnown, kWithdraw, decode_as_path},
    {attr::kNextHop, "NEXT_HOP", kWellKnown, kWithdraw, decode_next_hop},
    {attr::kMed, "MULTI_EXIT_DISC", kOptNonTrans, kWithdraw, decode_med},
    {attr::kLocalPref, "LOCAL_PREF", kWellKnown, kWithdraw, decode_local_pref},
    {attr::kAtomicAggregate, "ATOMIC_AGGREGATE", kWellKnown, kDiscard, decode_atomic_aggregate},
    {attr::kAggregator, "AGGREGATOR", kOptTrans, kDiscard, decode_aggregator},
    {attr::kCommunities, "COMMUNITIES", kOptTrans, kWithdraw, decode_communities},
    {attr::kOriginatorId, "ORIGINATOR_ID", kOptNonTrans, kWithdraw, decode_originator_id},
    {attr::kClusterList, "CLUSTER_LIST", kOptNonTrans, kWithdraw, decode_cluster_list},
    {attr::kMpReach, "MP_REACH_NLRI", kOptNonTrans, kWithdraw, decode_mp_reach},
    {attr::kMpUnreach, "MP_UNREACH_NLRI", kOptNonTrans, kWithdraw, decode_mp_unreach},
    {attr::kExtendedCommunities, "EXTENDED_COMMUNITIES", kOptTrans, kWithdraw, decode_extended_communities},
    {attr::kAs4Path, "AS4_PATH", kOptTrans, kDiscard, decode_as4_path},
    {attr::kAs4Aggregator, "AS4_AGGREGATOR", kOptTrans, kDiscard, decode_as4_aggregator},
    {attr::kLargeCommunities, "LARGE_COMMUNITIES", kOptTrans, kWithdraw, decode_large_communities},
};

const AttributeRule* rule_for(std::uint8_t type) {
  for (const auto& r : kRules) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

void raise(ParsedUpdate& out, UpdateAction a) { out.action = std::max(out.action, a); }

// One path attribute's header and value (RFC 4271 §4.3). False when the header is cut short or
// the length runs past the attributes (RFC 7606 §4).
struct AttributeHeader {
  std::uint8_t flags = 0;
  std::uint8_t type = 0;
  ByteView value;
  std::size_t header_size() const { return (flags & attr::kExtendedLength) ? 4 : 3; }
};

bool read_attribute(WireReader& r, AttributeHeader& h) {
  std::uint16_t length = 0;
  r.u8(h.flags);
  bool header_ok = r.u8(h.type);
  if (header_ok && (h.flags & attr::kExtendedLength)) {
    header_ok = r.u16(length);
  } else if (header_ok) {
    std::uint8_t l = 0;
    header_ok = r.u8(l);
    length = l;
  }
  return header_ok && r.take(length, h.value);
}

// RFC 7606 §3d: NLRI without the mandatory attributes is treat-as-withdraw (NEXT_HOP is
// mandatory only for the classic NLRI field, RFC 4760 §3).
void check_mandatory(ParsedUpdate& out, bool classic_nlri, bool mp_nlri) {
  if (!(classic_nlri || mp_nlri) || out.action >= UpdateAction::TreatAsWithdraw) return;
  const PathAttributes& a = out.attributes;
  std::string missing;
  if (!a.origin) missing += " ORIGIN";
  if (!a.as_path) missing += " AS_PATH";
  if (classic_nlri && !a.next_hop) missing += " NEXT_HOP";
  if (!missing.empty()) {
    raise(out, UpdateAction::TreatAsWithdraw);
    out.problems.push_back("missing well-known attribute" + missing + ": treat-as-withdraw");
  }
}

// The UPDATE's prefixes by the action decided: announced, or all withdrawn (treat-as-withdraw).
void settle_prefixes(ParsedUpdate& out, std::vector<Prefix> withdrawn, std::vector<Prefix> nlri,
                     const Reading& reading) {
  out.withdrawn = std::move(withdrawn);
  out.withdrawn.insert(out.withdrawn.end(), reading.mp_withdrawn.begin(), reading.mp_withdrawn.end());
  if (out.action == UpdateAction::TreatAsWithdraw) {
    out.withdrawn.insert(out.withdrawn.end(), nlri.begin(), nlri.end());
    out.withdrawn.insert(out.withdrawn.end(), reading.mp_announced.begin(), reading.mp_announced.end());
  } else {
    out.announced = std::move(nlri);
    out.announced.insert(out.announced.end(), reading.mp_announced.begin(), reading.mp_announced.end());
  }
}

}  // namespace

ParsedUpdate parse_update(const UpdateMessage& update, const SessionContext& context) {
  ParsedUpdate out;
  auto fail = [&](std::uint8_t subcode, std::string why, Bytes data = {}) {
    out.action = UpdateAction::SessionReset;
    out.problems.push_back(why);
    out.reset = wire_error(err::kUpdate, subcode, std::move(why), std::move(data));
    out.announced.clear();
    out.withdrawn.clear();
    return out;
  };

  std::vector<Prefix> withdrawn;
  std::vector<Prefix> nlri;
  if (!parse_prefixes(update.withdrawn_routes, ipam::Family::V4, withdrawn)) {
    return fail(err::kInvalidNetwork, "withdrawn route cannot be parsed");
  }
  if (!parse_prefixes(update.nlri, ipam::Family::V4, nlri)) {
    return fail(err::kInvalidNetwork, "NLRI prefix cannot be parsed");
  }
  // RFC 4724 §2: End-of-RIB for IPv4 unicast is an UPDATE with nothing in it.
  if (update.withdrawn_routes.empty() && update.path_attributes.empty() && update.nlri.empty()) {
    out.end_of_rib = AddressFamily{1, kSafiUnicast};
    return out;
  }

  Reading reading{context, out.attributes, {}, {}, {}, {}};
  std::bitset<256> seen;
  std::size_t attribute_count = 0;
  WireReader r(update.path_attributes);
  while (!r.empty()) {
    AttributeHeader header;
    // RFC 7606 §4: too few octets for a header, or a length past the attributes, is
    // treat-as-withdraw; the NLRI are still found from the total path attribute length.
    if (!read_attribute(r, header)) {
      raise(out, UpdateAction::TreatAsWithdraw);
      out.problems.push_back("path attribute runs past the total path attribute length");
      break;
    }
    ++attribute_count;
    const std::uint8_t flags = header.flags;
    const std::uint8_t type = header.type;
    const ByteView value = header.value;
    const AttributeRule* rule = rule_for(type);
    if (!rule) {
      // RFC 4271 §6.3: an unrecognized well-known attribute is an error; unknown optional
      // attributes are not ours to read (transitive ones would be passed on, we originate only).
      if (!(flags & attr::kOptional)) {
        Bytes data(update.path_attributes.begin() +
                       static_cast<std::ptrdiff_t>(r.position() - value.size() - header.header_size()),
                   update.path_attributes.begin() + static_cast<std::ptrdiff_t>(r.position()));
        return fail(err::kUnrecognizedWellKnown, "unrecognized well-known attribute " + std::to_string(type),
                    std::move(data));
      }
      continue;
    }
    if (seen[type]) {
      // RFC 7606 §3g: MP_REACH/MP_UNREACH twice resets; any other repeat is dropped.
      if (type == attr::kMpReach || type == attr::kMpUnreach) {
        return fail(err::kMalformedAttributeList, std::string(rule->name) + " appears twice");
      }
      raise(out, UpdateAction::AttributeDiscard);
      out.problems.push_back(std::string(rule->name) + " repeated: later copy discarded");
      continue;
    }
    seen[type] = true;
    const bool flags_ok = (flags & (attr::kOptional | attr::kTransitive)) == rule->flags;
    if (!flags_ok) {
      raise(out, rule->bad_flags);
      out.problems.push_back(std::string(rule->name) + " has wrong flags: " + action_name(rule->bad_flags));
      // The MP attributes still say which prefixes treat-as-withdraw must withdraw.
      if (type != attr::kMpReach && type != attr::kMpUnreach) continue;
    }
    if (!flags_ok) {
      // Only for MP attributes: read the prefixes, but keep nothing else.
      PathAttributes scratch;
      Reading mp{context, scratch, {}, {}, {}, {}};
      Verdict v = rule->decode(value, mp);
      if (v.action == UpdateAction::SessionReset) return fail(v.subcode, v.why);
      reading.mp_withdrawn.insert(reading.mp_withdrawn.end(), mp.mp_announced.begin(), mp.mp_announced.end());
      reading.mp_withdrawn.insert(reading.mp_withdrawn.end(), mp.mp_withdrawn.begin(), mp.mp_withdrawn.end());
      continue;
    }
    Verdict v = rule->decode(value, reading);
    if (v.action == UpdateAction::SessionReset) return fail(v.subcode, v.why);
    if (v.action != UpdateAction::Accept) {
      raise(out, v.action);
      out.problems.push_back(v.why + ": " + action_name(v.action));
    }
  }

  PathAttributes& a = out.attributes;
  if (reading.as4_path && a.as_path) a.as_path = merge_as4_path(*a.as_path, *reading.as4_path);
  check_mandatory(out, !nlri.empty(), !reading.mp_announced.empty());
  settle_prefixes(out, std::move(withdrawn), std::move(nlri), reading);
  // RFC 4724 §2: End-of-RIB for other families is an UPDATE holding only an empty MP_UNREACH.
  if (attribute_count == 1 && reading.mp_unreach_family && out.withdrawn.empty() && update.nlri.empty() &&
      update.withdrawn_routes.empty()) {
    out.end_of_rib = reading.mp_unreach_family;
  }
  return out;
}

std::size_t prefix_wire_size(const Prefix& p) { return 1 + (p.length() + 7) / 8; }

void put_prefix(Bytes& out, const Prefix& p) {
  out.push_back(static_cast<std::uint8_t>(p.length()));
  const auto bytes = p.address().bytes();
  out.insert(out.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>((p.length() + 7) / 8));
}

namespace {

// Writes flags, type and a one-octet length; end_attribute fixes the length, switching to
// the extended (two-octet) form when the value outgrew 255 octets (RFC 4271 §4.3).
std::size_t begin_attribute(Bytes& out, std::uint8_t flags, std::uint8_t type) {
  const std::size_t at = out.size();
  put_u8(out, flags);
  put_u8(out, type);
  put_u8(out, 0);
  return at;
}

void end_attribute(Bytes& out, std::size_t at) {
  const std::size_t length = out.size() - at - 3;
  if (length <= 255) {
    out[at + 2] = static_cast<std::uint8_t>(length);
    return;
  }
  out[at] |= attr::kExtendedLength;
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(at + 2), 0);
  patch_u16(out, at + 2, length);
}

void put_as_path(Bytes& out, const AsPath& path, bool four_octet) {
  for (const auto& seg : path) {
    // A segment holds at most 255 ASes: longer ones are split.
    for (std::size_t i = 0; i < seg.asns.size(); i += 255) {
      const std::size_t n = std::min<std::size_t>(255, seg.asns.size() - i);
      put_u8(out, static_cast<std::uint8_t>(seg.type));
      put_u8(out, static_cast<std::uint8_t>(n));
      for (std::size_t j = i; j < i + n; ++j) {
        const std::uint32_t as = seg.asns[j];
        if (four_octet) put_u32(out, as);
        else put_u16(out, as > 0xffff ? kAsTrans : static_cast<std::uint16_t>(as));
      }
    }
  }
}

bool needs_as4_path(const AsPath& path) {
  return std::ranges::any_of(path, [](const AsPathSegment& s) {
    return std::ranges::any_of(s.asns, [](std::uint32_t as) { return as > 0xffff; });
  });
}

void put_mp_reach(Bytes& out, const PathAttributes& attrs, std::span<const Prefix> prefixes) {
  const std::size_t at = begin_attribute(out, attr::kOptional, attr::kMpReach);
  const bool v4 = prefixes.front().is_v4();
  put_u16(out, v4 ? 1 : 2);
  put_u8(out, kSafiUnicast);
  const Address nh = attrs.mp_next_hop.value_or(Address());
  const bool link_local = !v4 && attrs.mp_next_hop_link_local.has_value();
  put_u8(out, static_cast<std::uint8_t>(nh.bytes().size() + (link_local ? 16 : 0)));
  put_bytes(out, nh.bytes());
  if (link_local) put_bytes(out, attrs.mp_next_hop_link_local->bytes());
  put_u8(out, 0);
  for (const auto& p : prefixes) put_prefix(out, p);
  end_attribute(out, at);
}

void put_mp_unreach(Bytes& out, std::uint16_t afi, std::span<const Prefix> prefixes) {
  const std::size_t at = begin_attribute(out, attr::kOptional, attr::kMpUnreach);
  put_u16(out, afi);
  put_u8(out, kSafiUnicast);
  for (const auto& p : prefixes) put_prefix(out, p);
  end_attribute(out, at);
}

}  // namespace

void encode_attributes(const PathAttributes& a, bool four_octet_as, Bytes& out) {
  if (a.origin) {
    const auto at = begin_attribute(out, attr::kTransitive, attr::kOrigin);
    put_u8(out, static_cast<std::uint8_t>(*a.origin));
    end_attribute(out, at);
  }
  if (a.as_path) {
    const auto at = begin_attribute(out, attr::kTransitive, attr::kAsPath);
    put_as_path(out, *a.as_path, four_octet_as);
    end_attribute(out, at);
  }
  if (a.next_hop) {
    const auto at = begin_attribute(out, attr::kTransitive, attr::kNextHop);
    put_bytes(out, a.next_hop->bytes());
    end_attribute(out, at);
  }
  if (a.med) {
    const auto at = begin_attribute(out, attr::kOptional, attr::kMed);
    put_u32(out, *a.med);
    end_attribute(out, at);
  }
  if (a.local_pref) {
    const auto at = begin_attribute(out, attr::kTransitive, attr::kLocalPref);
    put_u32(out, *a.local_pref);
    end_attribute(out, at);
  }
  if (a.atomic_aggregate) end_attribute(out, begin_attribute(out, attr::kTransitive, attr::kAtomicAggregate));
  if (!a.communities.empty()) {
    const auto at = begin_attribute(out, attr::kOptional | attr::kTransitive, attr::kCommunities);
    for (auto c : a.communities) put_u32(out, c);
    end_attribute(out, at);
  }
  // RFC 6793 §4.2.2: a 2-octet session carries the real path in AS4_PATH.
  if (a.as_path && !four_octet_as && needs_as4_path(*a.as_path)) {
    const auto at = begin_attribute(out, attr::kOptional | attr::kTransitive, attr::kAs4Path);
    put_as_path(out, *a.as_path, true);
    end_attribute(out, at);
  }
  if (!a.large_communities.empty()) {
    const auto at = begin_attribute(out, attr::kOptional | attr::kTransitive, attr::kLargeCommunities);
    for (const auto& c : a.large_communities) {
      put_u32(out, c.global);
      put_u32(out, c.local1);
      put_u32(out, c.local2);
    }
    end_attribute(out, at);
  }
}

Bytes build_update(const PathAttributes& attrs, const std::vector<Prefix>& announce,
                   const std::vector<Prefix>& withdraw, bool four_octet_as) {
  std::vector<Prefix> a4, a6, w4, w6;
  for (const auto& p : announce) (p.is_v4() ? a4 : a6).push_back(p);
  for (const auto& p : withdraw) (p.is_v4() ? w4 : w6).push_back(p);
  Bytes out;
  out.reserve(256);
  const std::size_t start = begin_message(out, MessageType::Update);
  const std::size_t withdrawn_at = out.size();
  put_u16(out, 0);
  for (const auto& p : w4) put_prefix(out, p);
  patch_u16(out, withdrawn_at, out.size() - withdrawn_at - 2);
  const std::size_t attrs_at = out.size();
  put_u16(out, 0);
  // MP attributes first (as FRR does): the rest of the attributes are then one block.
  if (!a6.empty()) put_mp_reach(out, attrs, a6);
  if (!w6.empty()) put_mp_unreach(out, 2, w6);
  if (!announce.empty()) {
    PathAttributes classic = attrs;
    if (a4.empty()) classic.next_hop.reset();
    encode_attributes(classic, four_octet_as, out);
  }
  patch_u16(out, attrs_at, out.size() - attrs_at - 2);
  for (const auto& p : a4) put_prefix(out, p);
  finish_message(out, start);
  return out;
}

Bytes build_end_of_rib(AddressFamily family) {
  Bytes out;
  const std::size_t start = begin_message(out, MessageType::Update);
  put_u16(out, 0);
  if (family.afi == 1 && family.safi == kSafiUnicast) {
    put_u16(out, 0);
  } else {
    put_u16(out, 6);
    put_u8(out, attr::kOptional);
    put_u8(out, attr::kMpUnreach);
    put_u8(out, 3);
    put_u16(out, family.afi);
    put_u8(out, family.safi);
  }
  finish_message(out, start);
  return out;
}

}  // namespace blockd::bgp
