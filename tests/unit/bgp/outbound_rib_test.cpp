// The outbound-RIB builder apart from any socket: what a peer is sent at session start, on a
// change of the advertised routes, on a ROUTE-REFRESH and after the session went down, read
// back with the codec.
#include "bgp/outbound_rib.hpp"

#include <gtest/gtest.h>

namespace blockd::bgp {
namespace {

Prefix P(const std::string& s) { return *Prefix::parse(s); }
Address A(const char* s) { return *Address::parse(s); }

const AddressFamily kV4{1, kSafiUnicast};
const AddressFamily kV6{2, kSafiUnicast};

ExportContext ebgp(std::vector<AddressFamily> families = {kV4}) {
  ExportContext c;
  c.local_as = 65001;
  c.ebgp = true;
  c.self_v4 = A("10.0.0.1");
  c.families = std::move(families);
  return c;
}

AdvertisedRoute route(const char* prefix, std::vector<std::uint32_t> communities = {}) {
  return {P(prefix), std::nullopt, std::move(communities)};
}

struct Sent {
  std::vector<Prefix> announced, withdrawn;
  std::vector<AddressFamily> end_of_rib;
  std::size_t updates = 0;
};

Sent read(const std::vector<Bytes>& messages) {
  Sent out;
  for (const auto& m : messages) {
    auto d = decode(m, {true});
    EXPECT_TRUE(d.ok());
    if (!d.ok()) continue;
    auto u = parse_update(std::get<UpdateMessage>(*d), {true, true});
    EXPECT_EQ(u.action, UpdateAction::Accept);
    if (u.end_of_rib) {
      out.end_of_rib.push_back(*u.end_of_rib);
      continue;
    }
    ++out.updates;
    out.announced.insert(out.announced.end(), u.announced.begin(), u.announced.end());
    out.withdrawn.insert(out.withdrawn.end(), u.withdrawn.begin(), u.withdrawn.end());
  }
  return out;
}

TEST(OutboundRib, StartSendsEveryRouteThenEndOfRibPerFamily) {
  OutboundRib rib;
  const Sent s = read(rib.start(ebgp({kV4, kV6}), {}, {route("10.1.0.0/26"), route("10.1.0.64/26")}));
  EXPECT_EQ(s.announced, (std::vector<Prefix>{P("10.1.0.0/26"), P("10.1.0.64/26")}));
  EXPECT_EQ(s.updates, 1u);  // one attribute set: one message
  EXPECT_EQ(s.end_of_rib, (std::vector<AddressFamily>{kV4, kV6}));
  EXPECT_EQ(rib.size(), 2u);
}

TEST(OutboundRib, AChangeSendsOnlyTheDifferenceAndNothingWhenNothingChanged) {
  OutboundRib rib;
  (void)rib.start(ebgp(), {}, {route("10.1.0.0/26"), route("10.1.0.64/26")});
  const Sent s = read(rib.update({route("10.1.0.64/26"), route("10.1.0.128/26")}));
  EXPECT_EQ(s.announced, std::vector<Prefix>{P("10.1.0.128/26")});
  EXPECT_EQ(s.withdrawn, std::vector<Prefix>{P("10.1.0.0/26")});
  EXPECT_TRUE(rib.update({route("10.1.0.64/26"), route("10.1.0.128/26")}).empty());
  // New communities are new attributes: the route is announced again.
  EXPECT_EQ(read(rib.update({route("10.1.0.64/26", {7}), route("10.1.0.128/26")})).announced,
            std::vector<Prefix>{P("10.1.0.64/26")});
}

TEST(OutboundRib, ARefreshAnnouncesEverythingAgainAndStillWithdrawsWhatWentAway) {
  OutboundRib rib;
  (void)rib.start(ebgp(), {}, {route("10.1.0.0/26"), route("10.1.0.64/26")});
  const Sent s = read(rib.update({route("10.1.0.0/26")}, true));
  EXPECT_EQ(s.announced, std::vector<Prefix>{P("10.1.0.0/26")});
  EXPECT_EQ(s.withdrawn, std::vector<Prefix>{P("10.1.0.64/26")});
  EXPECT_EQ(rib.size(), 1u);
}

TEST(OutboundRib, WhatThePeerCannotTakeIsNotSent) {
  OutboundRib rib;
  // IPv6 is not negotiated, and this session has no IPv6 address for a next hop either.
  const Sent s = read(rib.start(ebgp(), {}, {route("10.1.0.0/26"), route("fd00::/122")}));
  EXPECT_EQ(s.announced, std::vector<Prefix>{P("10.1.0.0/26")});
  EXPECT_EQ(rib.size(), 1u);
}

TEST(OutboundRib, StoppedItSendsNothingAndTheNextSessionStartsFromNothing) {
  OutboundRib rib;
  (void)rib.start(ebgp(), {}, {route("10.1.0.0/26")});
  rib.stop();
  EXPECT_FALSE(rib.running());
  EXPECT_EQ(rib.size(), 0u);
  EXPECT_TRUE(rib.update({route("10.1.0.64/26")}).empty());
  const Sent s = read(rib.start(ebgp(), {}, {route("10.1.0.0/26")}));
  EXPECT_EQ(s.announced, std::vector<Prefix>{P("10.1.0.0/26")});  // again: the peer forgot it
  EXPECT_TRUE(s.withdrawn.empty());
}

TEST(OutboundRib, MessagesStayWithinTheNegotiatedSize) {
  OutboundRib rib;
  std::vector<AdvertisedRoute> many;
  for (int i = 0; i < 4000; ++i) {
    many.push_back(route(("10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24").c_str()));
  }
  const auto small = rib.start(ebgp(), {true, kMaxMessageSize}, many);
  for (const auto& m : small) EXPECT_LE(m.size(), kMaxMessageSize);
  EXPECT_EQ(read(small).announced.size(), many.size());
  OutboundRib extended;
  EXPECT_LT(extended.start(ebgp(), {true, kMaxExtendedMessageSize}, many).size(), small.size());
}

}  // namespace
}  // namespace blockd::bgp

namespace blockd::bgp {
namespace {

// BGPFilter export rules on the session: a rejected route is never sent, and a route carries
// its standard and large communities on the wire.
TEST(OutboundRibPolicy, ExportFilterDropsRejectedRoutesAndCommunitiesGoOnTheWire) {
  ExportContext c = ebgp();
  ipam::FilterRule reject_borrowed;
  reject_borrowed.action = ipam::FilterAction::Reject;
  reject_borrowed.cidr = P("10.1.0.0/16");
  reject_borrowed.min_length = 32;
  c.export_filter.v4 = {reject_borrowed};
  OutboundRib rib;
  AdvertisedRoute tagged = route("10.1.0.0/26", {65000u << 16 | 7});
  tagged.large_communities = {{65000, 1, 2}};
  const auto messages = rib.start(c, {}, {tagged, route("10.1.0.70/32"), route("10.1.0.128/26")});
  const Sent s = read(messages);
  EXPECT_EQ(s.announced, (std::vector<Prefix>{P("10.1.0.0/26"), P("10.1.0.128/26")}));
  EXPECT_EQ(rib.size(), 2u);
  bool seen = false;
  for (const auto& m : messages) {
    auto d = decode(m, {true});
    ASSERT_TRUE(d.ok());
    auto u = parse_update(std::get<UpdateMessage>(*d), {true, true});
    if (std::find(u.announced.begin(), u.announced.end(), P("10.1.0.0/26")) == u.announced.end()) continue;
    seen = true;
    EXPECT_EQ(u.attributes.communities, std::vector<std::uint32_t>{65000u << 16 | 7});
    EXPECT_EQ(u.attributes.large_communities, (std::vector<LargeCommunity>{{65000, 1, 2}}));
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace blockd::bgp
