// IPReservation and IPAMConfiguration: decoded, validated and written back in Calico's shape;
// every bad input named.
#include <gtest/gtest.h>

#include "ipam/reserved_addresses.hpp"
#include "ipam/resources/resource_codec.hpp"

namespace blockd::ipam {
namespace {

const std::string kReservation = "apiVersion: projectcalico.org/v3\nkind: IPReservation\nmetadata: {name: r}\n";
const std::string kConfig = "apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata: {name: default}\n";

TEST(IpamSettingsCodec, RoundTripsInCalicosShape) {
  auto r = parse_resources_yaml(kReservation + "spec:\n  reservedCIDRs: [10.0.0.0/30, 10.0.1.7, 'fd00::/126']\n" +
                                "---\n" + kConfig +
                                "spec: {strictAffinity: true, maxBlocksPerHost: 4, autoAllocateBlocks: false}\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  const auto& res = std::get<IPReservation>((*r)[0]);
  ASSERT_EQ(res.reserved_cidrs.size(), 3u);
  EXPECT_EQ(res.reserved_cidrs[1].str(), "10.0.1.7/32");
  const auto& c = std::get<IPAMConfiguration>((*r)[1]);
  EXPECT_TRUE(c.strict_affinity);
  EXPECT_EQ(c.max_blocks_per_host, 4u);
  EXPECT_FALSE(c.auto_allocate_blocks);
  for (const auto& resource : *r) {
    auto back = resource_from_json(resource_to_json(resource));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, resource);
  }
  EXPECT_EQ(resource_to_json((*r)[0])["spec"]["reservedCIDRs"][2], "fd00::/126");
  // Calico's defaults when the spec is empty.
  auto empty = parse_resources_yaml(kConfig);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(std::get<IPAMConfiguration>((*empty)[0]), (IPAMConfiguration{"default", false, 0, true}));
}

TEST(IpamSettingsCodec, BadInputIsNamed) {
  struct Case {
    std::string yaml;
    std::string message;
  };
  const std::vector<Case> cases = {
      {kReservation, "document 1: IPReservation r: spec.reservedCIDRs: required (a list of CIDRs or addresses)"},
      {kReservation + "spec: {reservedCIDRs: []}\n",
       "document 1: IPReservation r: spec.reservedCIDRs: must list at least one CIDR or address"},
      {kReservation + "spec: {reservedCIDRs: 10.0.0.0/24}\n",
       "document 1: IPReservation r: spec.reservedCIDRs: expected a list, got the string \"10.0.0.0/24\""},
      {kReservation + "spec: {reservedCIDRs: [10.0.0.1/24]}\n",
       "document 1: IPReservation r: spec.reservedCIDRs[0]: "},
      {kReservation + "spec: {reservedCIDR: [10.0.0.0/24]}\n",
       "document 1: IPReservation r: unknown field spec.reservedCIDR: blockd does not implement it"},
      {"apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata: {name: mine}\n",
       "document 1: IPAMConfiguration mine: metadata.name: \"mine\": the IPAMConfiguration must be named \"default\""},
      {kConfig + "spec: {maxBlocksPerHost: -1}\n", "document 1: IPAMConfiguration default: spec.maxBlocksPerHost: "},
      {kConfig + "spec: {strictAffinity: maybe}\n", "document 1: IPAMConfiguration default: spec.strictAffinity: "},
      {kConfig + "spec: {maxBlocks: 3}\n", "document 1: IPAMConfiguration default: unknown field spec.maxBlocks: blockd does not implement it"},
  };
  for (const auto& c : cases) {
    auto r = parse_resources_yaml(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.error().message.substr(0, c.message.size()), c.message) << r.error().message;
  }
}

TEST(ReservedAddresses, CountsEachAddressOnceAndKnowsTheSubnetRouterAnycast) {
  const ReservedAddresses r({Prefix::parse("10.0.0.0/30").value(), Prefix::parse("10.0.0.1").value(),
                             Prefix::parse("10.0.0.64/26").value(), Prefix::parse("10.0.0.0/30").value()});
  EXPECT_EQ(to_string(r.reserved_within(Prefix::parse("10.0.0.0/26").value())), "4");
  EXPECT_EQ(to_string(r.reserved_within(Prefix::parse("10.0.0.0/24").value())), "68");
  EXPECT_EQ(to_string(r.reserved_within(Prefix::parse("10.0.0.96/27").value())), "32");
  EXPECT_TRUE(r.contains(Address::parse("10.0.0.65").value()));
  EXPECT_FALSE(r.contains(Address::parse("10.0.0.4").value()));
  // RFC 4291 2.6.1: in IPv6 the address with a zero interface identifier is never handed out.
  const ReservedAddresses none;
  EXPECT_TRUE(none.contains(Address::parse("fd00:10::").value()));
  EXPECT_TRUE(none.contains(Address::parse("fd00:10:0:1::").value()));
  EXPECT_FALSE(none.contains(Address::parse("fd00:10::1").value()));
  EXPECT_FALSE(none.contains(Address::parse("10.0.0.0").value()));
}

}  // namespace
}  // namespace blockd::ipam
