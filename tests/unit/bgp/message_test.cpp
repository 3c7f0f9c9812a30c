// Codec round trips: decode(encode(m)) == m and encode(decode(b)) == b.
#include <gtest/gtest.h>

#include "bgp/codec/attributes.hpp"
#include "bgp/codec/capabilities.hpp"
#include "bgp/codec/message.hpp"

namespace blockd::bgp {
namespace {

Prefix P(const char* s) { return *Prefix::parse(s); }
Address A(const char* s) { return *Address::parse(s); }

void expect_round_trip(const Message& m) {
  const Bytes wire = encode(m);
  auto back = decode(wire);
  ASSERT_TRUE(back.ok()) << back.error().reason;
  EXPECT_EQ(*back, m);
  EXPECT_EQ(encode(*back), wire);
}

TEST(MessageCodec, KeepaliveIsNineteenOctets) {
  EXPECT_EQ(encode(KeepaliveMessage{}).size(), 19u);
  expect_round_trip(KeepaliveMessage{});
}

TEST(MessageCodec, NotificationRoundTrips) { expect_round_trip(NotificationMessage{6, 2, {1, 2, 3}}); }

TEST(MessageCodec, RouteRefreshRoundTrips) { expect_round_trip(RouteRefreshMessage{2, 0, 1}); }

TEST(MessageCodec, OpenWithEveryCapabilityRoundTrips) {
  Capabilities caps;
  caps.multiprotocol = {{1, 1}, {2, 1}};
  caps.route_refresh = true;
  caps.extended_message = true;
  caps.four_octet_as = 4200000001u;
  caps.graceful_restart = GracefulRestartCapability{true, 120, {{{1, 1}, true}, {{2, 1}, false}}};
  const OpenMessage open = make_open(4200000001u, 90, 0x0a000001, caps);
  EXPECT_EQ(open.my_as, kAsTrans);  // RFC 6793 §4.1
  expect_round_trip(open);
  auto parsed = parse_capabilities(open);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, caps);
}

TEST(MessageCodec, UpdateBuiltFromAttributesParsesBackToThem) {
  PathAttributes a;
  a.origin = Origin::Igp;
  a.as_path = AsPath{{SegmentType::Sequence, {65001, 4200000000u}}};
  a.next_hop = A("10.0.0.1");
  a.med = 7;
  a.communities = {(65001u << 16) | 7};
  a.large_communities = {{65001, 1, 2}};
  a.mp_next_hop = A("fd00::1");
  const std::vector<Prefix> announce = {P("10.1.0.0/26"), P("10.1.0.77/32"), P("fd00:1::/64"), P("0.0.0.0/0")};
  const std::vector<Prefix> withdraw = {P("10.9.0.0/16"), P("fd00:9::/48")};
  const Bytes wire = build_update(a, announce, withdraw, true);
  auto m = decode(wire);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(encode(*m), wire);
  const auto parsed = parse_update(std::get<UpdateMessage>(*m), {true, true});
  EXPECT_EQ(parsed.action, UpdateAction::Accept);
  EXPECT_EQ(parsed.attributes, a);
  EXPECT_EQ(parsed.announced, (std::vector<Prefix>{P("10.1.0.0/26"), P("10.1.0.77/32"), P("0.0.0.0/0"), P("fd00:1::/64")}));
  EXPECT_EQ(parsed.withdrawn, (std::vector<Prefix>{P("10.9.0.0/16"), P("fd00:9::/48")}));
}

// Prefixes of every length come back as sent: in runs of the same octet count (which the decoder
// reads without waiting on each length octet) and last in the field, where fewer octets are left
// than an address has.
TEST(MessageCodec, PrefixesOfEveryLengthParseBack) {
  PathAttributes a;
  a.origin = Origin::Igp;
  a.as_path = AsPath{{SegmentType::Sequence, {65001}}};
  a.next_hop = A("10.0.0.1");
  a.mp_next_hop = A("fd00::1");
  for (const Address& pattern : {A("165.90.165.90"), A("a55a:a55a:a55a:a55a:5aa5:5aa5:5aa5:5aa5")}) {
    for (unsigned last = 0; last <= pattern.bits(); ++last) {
      std::vector<Prefix> prefixes;
      for (unsigned length = 0; length <= pattern.bits(); ++length) {
        prefixes.push_back(Prefix::make(pattern, length));
        prefixes.push_back(Prefix::make(A(pattern.is_v4() ? "255.255.255.255" : "ffff::ffff"), length));
      }
      prefixes.push_back(Prefix::make(pattern, last));
      for (const bool announce : {true, false}) {
        const Bytes wire = build_update(a, announce ? prefixes : std::vector<Prefix>{},
                                        announce ? std::vector<Prefix>{} : prefixes, true);
        auto m = decode(wire);
        ASSERT_TRUE(m.ok()) << m.error().reason;
        const auto parsed = parse_update(std::get<UpdateMessage>(*m), {true, true});
        EXPECT_EQ(parsed.action, UpdateAction::Accept);
        EXPECT_EQ(announce ? parsed.announced : parsed.withdrawn, prefixes) << pattern.str() << " last /" << last;
      }
    }
  }
}

TEST(MessageCodec, FourOctetPathOnTwoOctetSessionTravelsInAs4Path) {
  PathAttributes a;
  a.origin = Origin::Igp;
  a.as_path = AsPath{{SegmentType::Sequence, {4200000000u, 65001}}};
  a.next_hop = A("10.0.0.1");
  const Bytes wire = build_update(a, {P("10.1.0.0/24")}, {}, false);
  auto m = decode(wire);
  ASSERT_TRUE(m.ok());
  const auto parsed = parse_update(std::get<UpdateMessage>(*m), {false, true});
  EXPECT_EQ(parsed.action, UpdateAction::Accept);
  EXPECT_EQ(parsed.attributes.as_path, a.as_path);  // RFC 6793 §4.2.3 reconstruction
}

TEST(MessageCodec, LongAttributeUsesExtendedLength) {
  PathAttributes a;
  a.origin = Origin::Igp;
  a.as_path = AsPath{};
  a.next_hop = A("10.0.0.1");
  for (std::uint32_t i = 0; i < 100; ++i) a.communities.push_back(i);
  const Bytes wire = build_update(a, {P("10.1.0.0/24")}, {}, true);
  auto m = decode(wire);
  ASSERT_TRUE(m.ok());
  const auto parsed = parse_update(std::get<UpdateMessage>(*m), {true, false});
  EXPECT_EQ(parsed.action, UpdateAction::Accept);
  EXPECT_EQ(parsed.attributes.communities.size(), 100u);
}

TEST(MessageCodec, LongAsPathIsSplitIntoSegmentsOf255) {
  PathAttributes a;
  a.origin = Origin::Igp;
  a.as_path = AsPath{{SegmentType::Sequence, std::vector<std::uint32_t>(600, 65001)}};
  a.next_hop = A("10.0.0.1");
  const Bytes wire = build_update(a, {P("10.1.0.0/24")}, {}, true);
  auto m = decode(wire);
  ASSERT_TRUE(m.ok());
  const auto parsed = parse_update(std::get<UpdateMessage>(*m), {true, true});
  ASSERT_TRUE(parsed.attributes.as_path.has_value());
  ASSERT_EQ(parsed.attributes.as_path->size(), 3u);
  EXPECT_EQ((*parsed.attributes.as_path)[2].asns.size(), 90u);
}

TEST(MessageCodec, EndOfRibMarkers) {
  const Bytes eor4 = build_end_of_rib({1, 1});
  auto v4 = decode(eor4);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(parse_update(std::get<UpdateMessage>(*v4), {}).end_of_rib, (AddressFamily{1, 1}));
  const Bytes eor6 = build_end_of_rib({2, 1});
  auto v6 = decode(eor6);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(parse_update(std::get<UpdateMessage>(*v6), {}).end_of_rib, (AddressFamily{2, 1}));
}

TEST(MessageCodec, FrameLengthReadsTheHeader) {
  const Bytes k = encode(KeepaliveMessage{});
  auto n = frame_length(k, {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 19u);
}

TEST(Negotiation, HoldTimeIsTheSmallerAndKeepaliveAThird) {
  Capabilities caps;
  caps.four_octet_as = 65001;
  Capabilities theirs_caps;
  theirs_caps.four_octet_as = 65002;
  auto n = negotiate(make_open(65002, 30, 2, theirs_caps), caps, {65002, 65001, 1, 90});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->hold_time, 30);
  EXPECT_EQ(n->keepalive_time, 10);
  EXPECT_TRUE(n->four_octet_as);
  EXPECT_EQ(n->families, (std::vector<AddressFamily>{{1, 1}}));  // RFC 4760 §8 default
}

TEST(Negotiation, HoldTimeZeroMeansNoKeepalives) {
  auto n = negotiate(make_open(65002, 0, 2, {}), {}, {65002, 65001, 1, 90});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->hold_time, 0);
  EXPECT_EQ(n->keepalive_time, 0);
}

}  // namespace
}  // namespace blockd::bgp
