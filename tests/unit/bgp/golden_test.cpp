// Golden byte vectors: messages BIRD 2.0.12, FRR 8.4.4 and GoBGP 3.10 sent in real sessions,
// captured with tshark on a veth (fixtures/capture.sh). Every one decodes and re-encodes to the
// same bytes, and decodes to what the daemon was configured to send.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "bgp/codec/attributes.hpp"
#include "bgp/codec/capabilities.hpp"
#include "bgp/codec/message.hpp"

namespace blockd::bgp {
namespace {

Bytes fixture(const std::string& name) {
  std::ifstream in(std::string(BGP_FIXTURE_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

Prefix P(const char* s) { return *Prefix::parse(s); }
Address A(const char* s) { return *Address::parse(s); }

TEST(Golden, EveryCapturedMessageRoundTripsByteForByte) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(BGP_FIXTURE_DIR)) {
    if (entry.path().extension() != ".bin") continue;
    const Bytes wire = fixture(entry.path().filename().string());
    auto m = decode(wire, {});
    ASSERT_TRUE(m.ok()) << entry.path() << ": " << m.error().reason;
    EXPECT_EQ(encode(*m), wire) << entry.path();
    ++count;
  }
  EXPECT_GE(count, 20);
}

Capabilities caps_of(const std::string& name) {
  auto m = decode(fixture(name));
  EXPECT_TRUE(m.ok());
  auto caps = parse_capabilities(std::get<OpenMessage>(*m));
  EXPECT_TRUE(caps.ok());
  return *caps;
}

TEST(Golden, BirdOpen) {
  auto m = decode(fixture("bird_open_1.bin"));
  ASSERT_TRUE(m.ok());
  const auto& open = std::get<OpenMessage>(*m);
  EXPECT_EQ(open.my_as, 65001);
  EXPECT_EQ(open.hold_time, 30);
  EXPECT_EQ(open.bgp_id, A("10.99.0.1").v4_value());
  const Capabilities caps = caps_of("bird_open_1.bin");
  EXPECT_EQ(caps.multiprotocol, (std::vector<AddressFamily>{{1, 1}, {2, 1}}));
  EXPECT_TRUE(caps.route_refresh);
  EXPECT_EQ(caps.four_octet_as, 65001u);
  ASSERT_TRUE(caps.graceful_restart.has_value());
  EXPECT_EQ(caps.graceful_restart->restart_time, 120);
  EXPECT_EQ(caps.graceful_restart->families.size(), 2u);
}

TEST(Golden, FrrOpen) {
  auto m = decode(fixture("frr_open_1.bin"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<OpenMessage>(*m).hold_time, 9);  // "frr defaults datacenter"
  const Capabilities caps = caps_of("frr_open_1.bin");
  EXPECT_EQ(caps.four_octet_as, 65002u);
  EXPECT_TRUE(caps.extended_message);
  EXPECT_TRUE(caps.route_refresh);
  ASSERT_TRUE(caps.graceful_restart.has_value());
  EXPECT_EQ(caps.graceful_restart->restart_time, 120);
}

TEST(Golden, GobgpOpen) {
  const Capabilities caps = caps_of("gobgp_open_1.bin");
  EXPECT_EQ(caps.four_octet_as, 65003u);
  EXPECT_EQ(caps.multiprotocol, (std::vector<AddressFamily>{{1, 1}, {2, 1}}));
  EXPECT_FALSE(caps.graceful_restart.has_value());
}

ParsedUpdate parsed(const std::string& name, bool ebgp = true) {
  const Bytes wire = fixture(name);  // the decoded UPDATE views into it
  auto m = decode(wire);
  EXPECT_TRUE(m.ok());
  return parse_update(std::get<UpdateMessage>(*m), {true, ebgp});
}

TEST(Golden, BirdUpdateWithCommunities) {
  const auto u = parsed("bird_update_2.bin");
  EXPECT_EQ(u.action, UpdateAction::Accept);
  EXPECT_EQ(u.announced, (std::vector<Prefix>{P("10.20.0.0/26")}));
  EXPECT_EQ(u.attributes.next_hop, A("10.99.0.1"));
  EXPECT_EQ(u.attributes.communities, (std::vector<std::uint32_t>{(65001u << 16) | 7}));
  EXPECT_EQ(u.attributes.large_communities, (std::vector<LargeCommunity>{{65001, 1, 2}}));
  EXPECT_EQ(to_string(*u.attributes.as_path), "65001");
}

TEST(Golden, BirdIpv6UpdateHasGlobalAndLinkLocalNextHop) {
  const auto u = parsed("bird_update_4.bin");
  EXPECT_EQ(u.action, UpdateAction::Accept);
  EXPECT_EQ(u.announced, (std::vector<Prefix>{P("fd20::/64")}));
  EXPECT_EQ(u.attributes.mp_next_hop, A("fd99::1"));
  ASSERT_TRUE(u.attributes.mp_next_hop_link_local.has_value());
  EXPECT_EQ(u.attributes.mp_next_hop_link_local->str().substr(0, 5), "fe80:");
}

TEST(Golden, BirdEndOfRibMarkers) {
  EXPECT_EQ(parsed("bird_update_3.bin").end_of_rib, (AddressFamily{1, 1}));
  EXPECT_EQ(parsed("bird_update_5.bin").end_of_rib, (AddressFamily{2, 1}));
  EXPECT_EQ(parsed("frr_update_4.bin").end_of_rib, (AddressFamily{2, 1}));
  EXPECT_EQ(parsed("frr_update_5.bin").end_of_rib, (AddressFamily{1, 1}));
}

TEST(Golden, FrrUpdatePrependsItsAs) {
  const auto u = parsed("frr_update_1.bin");
  EXPECT_EQ(u.action, UpdateAction::Accept);
  EXPECT_EQ(to_string(*u.attributes.as_path), "65002 65001");
  EXPECT_EQ(u.attributes.next_hop, A("10.99.0.2"));
  EXPECT_EQ(u.announced, (std::vector<Prefix>{P("10.20.0.0/26")}));
}

TEST(Golden, FrrIpv6UpdateUsesExtendedLengthMpReach) {
  const Bytes wire = fixture("frr_update_2.bin");
  EXPECT_EQ(wire[23] & 0x10, 0x10);  // FRR sets Extended Length on MP_REACH_NLRI
  const auto u = parsed("frr_update_2.bin");
  EXPECT_EQ(u.announced, (std::vector<Prefix>{P("fd20::/64")}));
  EXPECT_EQ(u.attributes.mp_next_hop, A("fd99::2"));
}

TEST(Golden, GobgpUpdates) {
  const auto u = parsed("gobgp_update_1.bin");
  EXPECT_EQ(u.action, UpdateAction::Accept);
  EXPECT_EQ(u.announced, (std::vector<Prefix>{P("10.40.0.0/26")}));
  EXPECT_EQ(u.attributes.med, 20u);
  EXPECT_EQ(u.attributes.origin, Origin::Incomplete);
  EXPECT_EQ(u.attributes.communities, (std::vector<std::uint32_t>{(65003u << 16) | 9}));
  const auto v6 = parsed("gobgp_update_2.bin");
  EXPECT_EQ(v6.announced, (std::vector<Prefix>{P("fd40::/64")}));
  EXPECT_EQ(v6.attributes.mp_next_hop, A("::ffff:10.99.0.3"));
}

}  // namespace
}  // namespace blockd::bgp
