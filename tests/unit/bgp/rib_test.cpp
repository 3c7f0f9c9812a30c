// Adj-RIB-Out diffing, update packing, export policy and Adj-RIB-In.
#include <gtest/gtest.h>

#include "bgp/export_policy.hpp"
#include "bgp/rib.hpp"
#include "bgp/update_packer.hpp"

namespace blockd::bgp {
namespace {

Prefix P(const std::string& s) { return *Prefix::parse(s); }
Address A(const char* s) { return *Address::parse(s); }

PathAttributes attrs(std::uint32_t community = 0, const char* nh = "10.0.0.2") {
  PathAttributes a;
  a.origin = Origin::Igp;
  a.as_path = AsPath{{SegmentType::Sequence, {65002}}};
  a.next_hop = A(nh);
  if (community) a.communities = {community};
  return a;
}

std::vector<OutRoute> routes(std::initializer_list<std::pair<const char*, std::uint32_t>> list) {
  std::vector<OutRoute> out;
  for (auto [p, id] : list) out.push_back({P(p), id});
  normalize(out);
  return out;
}

TEST(AdjRibOut, DiffAgainstEmptyAnnouncesEverything) {
  AdjRibOut rib;
  const auto d = rib.diff(routes({{"10.0.0.0/26", 0}, {"10.0.1.0/26", 0}}));
  EXPECT_EQ(d.announce.size(), 2u);
  EXPECT_TRUE(d.withdraw.empty());
}

TEST(AdjRibOut, ChangeSendsOnlyTheDifference) {
  AdjRibOut rib;
  rib.apply(rib.diff(routes({{"10.0.0.0/26", 0}, {"10.0.1.0/26", 0}, {"10.0.2.0/26", 0}})));
  const auto d = rib.diff(routes({{"10.0.0.0/26", 0}, {"10.0.2.0/26", 1}, {"10.0.3.0/26", 0}}));
  EXPECT_EQ(d.withdraw, (std::vector<Prefix>{P("10.0.1.0/26")}));
  ASSERT_EQ(d.announce.size(), 2u);
  EXPECT_EQ(d.announce[0], (OutRoute{P("10.0.2.0/26"), 1}));  // attributes changed
  EXPECT_EQ(d.announce[1], (OutRoute{P("10.0.3.0/26"), 0}));
  rib.apply(d);
  EXPECT_EQ(rib.routes(), routes({{"10.0.0.0/26", 0}, {"10.0.2.0/26", 1}, {"10.0.3.0/26", 0}}));
  EXPECT_TRUE(rib.diff(rib.routes()).empty());
}

TEST(AdjRibOut, NormalizeKeepsTheLastOfDuplicates) {
  std::vector<OutRoute> r = {{P("10.0.0.0/26"), 0}, {P("10.0.0.0/26"), 3}};
  normalize(r);
  EXPECT_EQ(r, (std::vector<OutRoute>{{P("10.0.0.0/26"), 3}}));
}

std::vector<ParsedUpdate> unpack(const std::vector<Bytes>& messages) {
  std::vector<ParsedUpdate> out;
  for (const auto& m : messages) {
    auto d = decode(m, {true});
    EXPECT_TRUE(d.ok());
    out.push_back(parse_update(std::get<UpdateMessage>(*d), {true, true}));
  }
  return out;
}

TEST(UpdatePacker, PrefixesSharingAttributesShareMessages) {
  AttributeSets sets;
  const auto a = sets.intern(attrs());
  RibDiff d;
  for (int i = 0; i < 100; ++i) d.announce.push_back({P("10.1." + std::to_string(i) + ".0/26"), a});
  const auto msgs = pack_updates(d, sets, {});
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(unpack(msgs)[0].announced.size(), 100u);
}

TEST(UpdatePacker, FillsMessagesToTheSizeLimit) {
  AttributeSets sets;
  const auto a = sets.intern(attrs());
  RibDiff d;
  for (int i = 0; i < 10000; ++i) d.announce.push_back({Prefix::make(Address::v4(0x0a000000u + (i << 6)), 26), a});
  const auto msgs = pack_updates(d, sets, {});
  for (const auto& m : msgs) EXPECT_LE(m.size(), kMaxMessageSize);
  // 5 octets per /26: 10000 prefixes need ceil(50000 / ~4040) messages, no more.
  EXPECT_EQ(msgs.size(), 13u);
  std::size_t announced = 0;
  for (const auto& u : unpack(msgs)) announced += u.announced.size();
  EXPECT_EQ(announced, 10000u);
  // With extended messages (RFC 8654), one message.
  EXPECT_EQ(pack_updates(d, sets, {true, kMaxExtendedMessageSize}).size(), 1u);
}

TEST(UpdatePacker, DifferentAttributesGoInDifferentMessages) {
  AttributeSets sets;
  const auto a = sets.intern(attrs(1));
  const auto b = sets.intern(attrs(2));
  RibDiff d{{{P("10.0.0.0/26"), a}, {P("10.0.1.0/26"), b}, {P("10.0.2.0/26"), a}}, {}};
  const auto u = unpack(pack_updates(d, sets, {}));
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0].announced.size(), 2u);
  EXPECT_EQ(u[0].attributes.communities, (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(u[1].announced.size(), 1u);
}

TEST(UpdatePacker, WithdrawalsArePackedPerFamily) {
  AttributeSets sets;
  RibDiff d;
  for (int i = 0; i < 2000; ++i) d.withdraw.push_back(Prefix::make(Address::v4(0x0a000000u + (i << 6)), 26));
  d.withdraw.push_back(P("fd00::/64"));
  d.withdraw.push_back(P("fd00:1::/64"));
  const auto msgs = pack_updates(d, sets, {});
  for (const auto& m : msgs) EXPECT_LE(m.size(), kMaxMessageSize);
  const auto u = unpack(msgs);
  ASSERT_EQ(u.size(), 4u);  // 10000 octets of IPv4 withdrawals: 3 messages; IPv6: 1
  std::size_t n = 0;
  for (const auto& x : u) n += x.withdrawn.size();
  EXPECT_EQ(n, 2002u);
  EXPECT_EQ(u[3].withdrawn, (std::vector<Prefix>{P("fd00::/64"), P("fd00:1::/64")}));
}

TEST(UpdatePacker, EveryMessageKindStaysWithinTheLimitAtItsFullest) {
  AttributeSets sets;
  PathAttributes v6 = attrs();
  v6.next_hop.reset();
  v6.mp_next_hop = A("fd00::2");
  const auto id4 = sets.intern(attrs());
  const auto id6 = sets.intern(v6);
  RibDiff d;
  for (std::uint32_t i = 0; i < 5000; ++i) {
    const Prefix p4 = Prefix::make(Address::v4(0x0a000000u + i), 32);
    const Prefix p6 = Prefix::make(Address::from_value(ipam::Family::V6, (ipam::uint128{0xfd00} << 112) + i), 128);
    d.withdraw.push_back(p4);
    d.withdraw.push_back(p6);
    d.announce.push_back({p4, id4});
    d.announce.push_back({p6, id6});
  }
  std::size_t withdrawn = 0, announced = 0;
  const auto msgs = pack_updates(d, sets, {});
  std::size_t partial = 0;
  for (const auto& m : msgs) {
    EXPECT_LE(m.size(), kMaxMessageSize);
    if (m.size() <= kMaxMessageSize - 40) ++partial;
  }
  EXPECT_LE(partial, 4u);  // full, except the last of each of the four kinds
  for (const auto& u : unpack(msgs)) {
    EXPECT_NE(u.action, UpdateAction::SessionReset);
    withdrawn += u.withdrawn.size();
    announced += u.announced.size();
  }
  EXPECT_EQ(withdrawn, 10000u);
  EXPECT_EQ(announced, 10000u);
}

TEST(UpdatePacker, Ipv6GoesInMpReachWithItsNextHop) {
  AttributeSets sets;
  PathAttributes a = attrs();
  a.next_hop.reset();
  a.mp_next_hop = A("fd00::2");
  const auto id = sets.intern(a);
  RibDiff d;
  for (int i = 0; i < 1000; ++i) d.announce.push_back({Prefix::make(Address::from_value(ipam::Family::V6, (ipam::uint128{0xfd00} << 112) + (ipam::uint128(i) << 64)), 64), id});
  const auto msgs = pack_updates(d, sets, {});
  for (const auto& m : msgs) EXPECT_LE(m.size(), kMaxMessageSize);
  std::size_t n = 0;
  for (const auto& u : unpack(msgs)) {
    EXPECT_EQ(u.action, UpdateAction::Accept);
    EXPECT_EQ(u.attributes.mp_next_hop, A("fd00::2"));
    n += u.announced.size();
  }
  EXPECT_EQ(n, 1000u);
  EXPECT_EQ(msgs.size(), 3u);  // 9 octets per /64
}

TEST(ExportPolicy, EbgpPrependsOurAsAndSetsNextHopSelf) {
  ExportContext ctx{65002, true, A("10.0.0.2"), std::nullopt, {{1, 1}}};
  auto a = export_attributes({P("10.1.0.0/26"), std::nullopt, {7, 3, 7}}, ctx);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(to_string(*a->as_path), "65002");
  EXPECT_EQ(a->next_hop, A("10.0.0.2"));
  EXPECT_FALSE(a->local_pref.has_value());
  EXPECT_EQ(a->communities, (std::vector<std::uint32_t>{3, 7}));
  EXPECT_EQ(a->origin, Origin::Igp);
}

TEST(ExportPolicy, IbgpHasEmptyPathAndLocalPref) {
  ExportContext ctx{65002, false, A("10.0.0.2"), std::nullopt, {{1, 1}}};
  auto a = export_attributes({P("10.1.0.0/26"), A("10.0.0.9"), {}}, ctx);
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->as_path->empty());
  EXPECT_EQ(a->local_pref, 100u);
  EXPECT_EQ(a->next_hop, A("10.0.0.9"));
}

TEST(ExportPolicy, Ipv6NeedsTheFamilyAndAnIpv6NextHop) {
  ExportContext v4_only{65002, true, A("10.0.0.2"), std::nullopt, {{1, 1}, {2, 1}}};
  EXPECT_FALSE(export_attributes({P("fd00::/64"), std::nullopt, {}}, v4_only).has_value());
  ExportContext no_family{65002, true, A("10.0.0.2"), A("fd00::2"), {{1, 1}}};
  EXPECT_FALSE(export_attributes({P("fd00::/64"), std::nullopt, {}}, no_family).has_value());
  ExportContext both{65002, true, A("10.0.0.2"), A("fd00::2"), {{1, 1}, {2, 1}}};
  auto a = export_attributes({P("fd00::/64"), std::nullopt, {}}, both);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->mp_next_hop, A("fd00::2"));
  EXPECT_FALSE(a->next_hop.has_value());
}

TEST(AdjRibIn, AppliesAnnouncementsAndWithdrawals) {
  AdjRibIn rib;
  ParsedUpdate u;
  u.attributes = attrs();
  u.announced = {P("10.0.0.0/24"), P("10.0.1.0/24")};
  EXPECT_TRUE(rib.apply(u));
  ParsedUpdate w;
  w.withdrawn = {P("10.0.0.0/24")};
  EXPECT_TRUE(rib.apply(w));
  EXPECT_EQ(rib.size(), 1u);
  EXPECT_FALSE(rib.apply(w));
}

TEST(AdjRibIn, StaleRoutesRefreshedSurviveTheSweep) {
  AdjRibIn rib;
  ParsedUpdate u;
  u.attributes = attrs();
  u.announced = {P("10.0.0.0/24"), P("10.0.1.0/24"), P("fd00::/64")};
  rib.apply(u);
  rib.mark_stale();
  u.announced = {P("10.0.0.0/24")};
  rib.apply(u);
  EXPECT_EQ(rib.sweep_stale(ipam::Family::V4), 1u);
  EXPECT_EQ(rib.size(), 2u);
  EXPECT_EQ(rib.sweep_stale(), 1u);
  EXPECT_EQ(rib.size(), 1u);
}

}  // namespace
}  // namespace blockd::bgp
