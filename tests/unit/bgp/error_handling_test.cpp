// The error handling RFC 4271 §6, RFC 6608, RFC 7606, RFC 6793 and RFC 8654 require, as a
// table: the input a broken peer sends and the action the speaker must take (the codec decides
// per attribute in its own table, kRules in bgp/codec/attributes.cpp).
#include <gtest/gtest.h>

#include "bgp/codec/attributes.hpp"
#include "bgp/codec/capabilities.hpp"
#include "bgp/codec/message.hpp"
#include "update_builder.hpp"

namespace blockd::bgp {
namespace {

using namespace testing;

// ---- Message header (RFC 4271 §6.1, RFC 8654) ----

struct HeaderCase {
  const char* name;
  Bytes message;
  bool extended;
  std::uint8_t code, subcode;
  Bytes data;
};

Bytes header(std::size_t length, std::uint8_t type, std::size_t body = 0) {
  Bytes out(16, 0xff);
  put_u16(out, static_cast<std::uint16_t>(length));
  out.push_back(type);
  out.resize(out.size() + body, 0);
  return out;
}

Bytes bad_marker() {
  Bytes b = header(19, 4);
  b[3] = 0;
  return b;
}

void PrintTo(const HeaderCase& c, std::ostream* os) { *os << c.name; }

class HeaderErrors : public ::testing::TestWithParam<HeaderCase> {};

TEST_P(HeaderErrors, SendTheRightNotification) {
  const auto& c = GetParam();
  auto m = decode(c.message, {c.extended});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().notification.code, c.code) << m.error().reason;
  EXPECT_EQ(m.error().notification.subcode, c.subcode) << m.error().reason;
  if (!c.data.empty()) {
    EXPECT_EQ(m.error().notification.data, c.data);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rfc4271Section6_1, HeaderErrors,
    ::testing::Values(
        HeaderCase{"MarkerNotAllOnes", bad_marker(), false, 1, 1, {}},
        HeaderCase{"LengthBelow19", header(18, 4), false, 1, 2, {0, 18}},
        HeaderCase{"LengthAbove4096", header(4097, 2, 4097 - 19), false, 1, 2, {0x10, 0x01}},
        HeaderCase{"ExtendedOpenStaysWithin4096", header(5000, 1, 5000 - 19), true, 1, 2, {}},
        HeaderCase{"ExtendedKeepaliveStaysAt19", header(5000, 4, 5000 - 19), true, 1, 2, {}},
        HeaderCase{"KeepaliveNot19", header(20, 4, 1), false, 1, 2, {0, 20}},
        HeaderCase{"OpenBelow29", header(28, 1, 9), false, 1, 2, {0, 28}},
        HeaderCase{"UpdateBelow23", header(22, 2, 3), false, 1, 2, {0, 22}},
        HeaderCase{"NotificationBelow21", header(20, 3, 1), false, 1, 2, {0, 20}},
        HeaderCase{"UnknownType", header(19, 6), false, 1, 3, {6}},
        HeaderCase{"RouteRefreshWrongLength", header(24, 5, 5), false, 7, 1, {}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(HeaderErrors, ExtendedUpdateMayExceed4096) {
  Bytes big = update_bytes({}, {}, Bytes(6000, 0));
  // 6000 zero octets are 6000 default routes: a valid NLRI field.
  EXPECT_FALSE(decode(big, {false}).ok());
  EXPECT_TRUE(decode(big, {true}).ok());
}

// ---- OPEN (RFC 4271 §6.2, RFC 5492, RFC 6793) ----

struct OpenCase {
  const char* name;
  OpenMessage open;
  OpenExpectation expect;
  std::uint8_t subcode;
};

OpenMessage open_from(std::uint32_t as, std::uint16_t hold, std::uint32_t id, bool four_octet = true) {
  Capabilities c;
  if (four_octet) c.four_octet_as = as;
  return make_open(as, hold, id, c);
}
OpenMessage with_version(OpenMessage o, std::uint8_t v) { o.version = v; return o; }
OpenMessage with_param(OpenMessage o, OptionalParameter p) { o.parameters.push_back(std::move(p)); return o; }

void PrintTo(const OpenCase& c, std::ostream* os) { *os << c.name; }

class OpenErrors : public ::testing::TestWithParam<OpenCase> {};

TEST_P(OpenErrors, SendTheRightNotification) {
  const auto& c = GetParam();
  Capabilities ours;
  ours.four_octet_as = c.expect.local_as;
  auto n = negotiate(c.open, ours, c.expect);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().notification.code, 2);
  EXPECT_EQ(n.error().notification.subcode, c.subcode) << n.error().reason;
}

const OpenExpectation kExpect{65002, 65001, 0x0a000001, 90};
const OpenExpectation kExpectIbgp{65001, 65001, 0x0a000001, 90};

INSTANTIATE_TEST_SUITE_P(
    Rfc4271Section6_2, OpenErrors,
    ::testing::Values(
        OpenCase{"VersionNot4", with_version(open_from(65002, 90, 2), 3), kExpect, 1},
        OpenCase{"WrongPeerAs", open_from(65003, 90, 2), kExpect, 2},
        OpenCase{"WrongFourOctetAsBehindAsTrans", open_from(4200000000u, 90, 2), {4200000001u, 65001, 1, 90}, 2},
        // RFC 7607 §2: AS 0 is a Bad Peer AS even where nothing else is checked against it.
        OpenCase{"AsZero", open_from(0, 90, 2, false), kExpect, 2},
        OpenCase{"FourOctetAsZero", with_param(open_from(65002, 90, 2, false), {2, {65, 4, 0, 0, 0, 0}}), kExpect, 2},
        // RFC 6793: AS_TRANS stands in for a 4-octet AS; as the 4-octet AS itself it is refused.
        OpenCase{"AsTransAsFourOctetAs", open_from(23456, 90, 2), {23456, 65001, 1, 90}, 2},
        OpenCase{"IdentifierZero", open_from(65002, 90, 0), kExpect, 3},
        OpenCase{"IbgpIdentifierEqualsOurs", open_from(65001, 90, 0x0a000001), kExpectIbgp, 3},
        OpenCase{"UnsupportedParameterType", with_param(open_from(65002, 90, 2), {1, {0, 0}}), kExpect, 4},
        OpenCase{"MalformedCapability", with_param(open_from(65002, 90, 2), {2, {65, 4, 0}}), kExpect, 0},
        OpenCase{"HoldTimeOne", open_from(65002, 1, 2), kExpect, 6},
        OpenCase{"HoldTimeTwo", open_from(65002, 2, 2), kExpect, 6}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(OpenErrors, NoCommonFamilyIsUnsupportedCapability) {
  Capabilities ours;
  ours.multiprotocol = {{2, 1}};
  Capabilities theirs;
  theirs.multiprotocol = {{1, 1}};
  auto n = negotiate(make_open(65002, 90, 2, theirs), ours, kExpect);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().notification.subcode, 7);
}

TEST(OpenChecks, HoldTimeZeroAndThreeAreLegal) {
  EXPECT_TRUE(negotiate(open_from(65002, 0, 2), {}, kExpect).ok());
  EXPECT_TRUE(negotiate(open_from(65002, 3, 2), {}, kExpect).ok());
}

TEST(OpenChecks, FourOctetAsBehindAsTransIsAccepted) {
  Capabilities ours;
  ours.four_octet_as = 65001;
  auto n = negotiate(open_from(4200000000u, 90, 2), ours, {4200000000u, 65001, 1, 90});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->peer_as, 4200000000u);
}

// ---- UPDATE (RFC 7606) ----

struct UpdateCase {
  const char* name;
  Bytes message;
  bool ebgp;
  UpdateAction action;
  std::size_t announced;
  std::size_t withdrawn;
  std::uint8_t subcode = 0;  // for SessionReset
};

ParsedUpdate run(const Bytes& message, bool ebgp, bool four_octet = true) {
  auto m = decode(message);
  if (!m.ok()) {
    ParsedUpdate p;
    p.action = UpdateAction::SessionReset;
    p.reset = m.error();
    return p;
  }
  return parse_update(std::get<UpdateMessage>(*m), {four_octet, ebgp});
}

void PrintTo(const UpdateCase& c, std::ostream* os) { *os << c.name; }

class UpdateErrors : public ::testing::TestWithParam<UpdateCase> {};

TEST_P(UpdateErrors, TakeTheRfc7606Action) {
  const auto& c = GetParam();
  const ParsedUpdate u = run(c.message, c.ebgp);
  EXPECT_EQ(action_name(u.action), std::string(action_name(c.action)));
  EXPECT_EQ(u.announced.size(), c.announced);
  EXPECT_EQ(u.withdrawn.size(), c.withdrawn);
  if (c.action == UpdateAction::SessionReset) {
    ASSERT_TRUE(u.reset.has_value());
    EXPECT_EQ(u.reset->notification.code, 3);
    EXPECT_EQ(u.reset->notification.subcode, c.subcode) << u.reset->reason;
  } else {
    EXPECT_FALSE(u.reset.has_value());
  }
}

// An UPDATE whose header claims more withdrawn routes than there are octets.
Bytes withdrawn_length_overrun() {
  Bytes b = update_bytes({}, {}, {});
  patch_u16(b, 19, 10);
  return b;
}
Bytes attribute_length_overrun() {
  Bytes b = update_bytes({}, mandatory(), {});
  patch_u16(b, 21, 200);
  return b;
}
// MP_REACH for fd00::/64 with next hop fd00::1.
Bytes mp_reach_v6(std::uint8_t flags = 0x80, std::uint8_t nh_len = 16) {
  Bytes v{0, 2, 1, nh_len};
  Bytes nh(nh_len, 0);
  if (nh_len) nh[0] = 0xfd;
  put_bytes(v, nh);
  v.push_back(0);
  put_bytes(v, Bytes{64, 0xfd, 0, 0, 0, 0, 0, 0, 0});
  return attribute(flags, 14, v);
}
Bytes mp_unreach_v6() { return attribute(0x80, 15, {0, 2, 1, 64, 0xfd, 0, 0, 0, 0, 0, 0, 0}); }
Bytes as_path_with(Bytes segments) { return attribute(0x40, 2, std::move(segments)); }
Bytes w_10_9() { return {16, 10, 9}; }  // 10.9.0.0/16

const auto Accept = UpdateAction::Accept;
const auto Discard = UpdateAction::AttributeDiscard;
const auto Withdraw = UpdateAction::TreatAsWithdraw;
const auto Reset = UpdateAction::SessionReset;

INSTANTIATE_TEST_SUITE_P(
    Rfc7606, UpdateErrors,
    ::testing::Values(
        UpdateCase{"WellFormed", update_bytes({}, mandatory(), nlri_10_1()), true, Accept, 1, 0},
        UpdateCase{"WithdrawnLengthExceedsMessage", withdrawn_length_overrun(), true, Reset, 0, 0, 1},
        UpdateCase{"TotalAttributeLengthExceedsMessage", attribute_length_overrun(), true, Reset, 0, 0, 1},
        UpdateCase{"AttributeRunsPastTotalLength",
                   update_bytes({}, join({mandatory(), Bytes{0x40, 1, 9, 0}}), nlri_10_1()), true, Withdraw, 0, 1},
        UpdateCase{"TooFewOctetsForAttributeHeader",
                   update_bytes({}, join({mandatory(), Bytes{0x40, 1}}), nlri_10_1()), true, Withdraw, 0, 1},
        UpdateCase{"TooFewOctetsForExtendedHeader",
                   update_bytes({}, join({mandatory(), Bytes{0x50, 8, 0}}), nlri_10_1()), true, Withdraw, 0, 1},
        UpdateCase{"WrongFlagsOnKnownAttribute",
                   update_bytes({}, join({attribute(0xc0, 1, {0}), as_path(), next_hop()}), nlri_10_1()), true,
                   Withdraw, 0, 1},
        UpdateCase{"WrongFlagsOnMpReachWithdrawsItsPrefixes",
                   update_bytes({}, join({mp_reach_v6(0xc0), origin(), as_path()}), {}), true, Withdraw, 0, 1},
        UpdateCase{"MpReachTwice",
                   update_bytes({}, join({mp_reach_v6(), mp_reach_v6(), origin(), as_path()}), {}), true, Reset, 0, 0, 1},
        UpdateCase{"MpUnreachTwice", update_bytes({}, join({mp_unreach_v6(), mp_unreach_v6()}), {}), true, Reset, 0, 0, 1},
        UpdateCase{"OtherAttributeTwiceKeepsTheFirst",
                   update_bytes({}, join({mandatory(), attribute(0x40, 1, {2})}), nlri_10_1()), true, Discard, 1, 0},
        UpdateCase{"MissingOrigin", update_bytes({}, join({as_path(), next_hop()}), nlri_10_1()), true, Withdraw, 0, 1},
        UpdateCase{"MissingAsPath", update_bytes({}, join({origin(), next_hop()}), nlri_10_1()), true, Withdraw, 0, 1},
        UpdateCase{"MissingNextHopForIpv4Nlri", update_bytes({}, join({origin(), as_path()}), nlri_10_1()), true,
                   Withdraw, 0, 1},
        UpdateCase{"MpReachNeedsNoNextHopAttribute", update_bytes({}, join({mp_reach_v6(), origin(), as_path()}), {}),
                   true, Accept, 1, 0},
        UpdateCase{"MalformedAttributesWithoutNlriKeepTheSession",
                   update_bytes(w_10_9(), attribute(0x40, 1, {7}), {}), true, Withdraw, 0, 1},
        UpdateCase{"NoNlriOnlyBrokenAttributes", update_bytes({}, attribute(0x40, 1, {7}), {}), true, Withdraw, 0, 0},
        UpdateCase{"NlriPrefixLengthAbove32", update_bytes({}, mandatory(), {33, 10, 0, 0, 0, 0}), true, Reset, 0, 0, 10},
        UpdateCase{"NlriRunsPastTheEnd", update_bytes({}, mandatory(), {24, 10, 1}), true, Reset, 0, 0, 10},
        // The same inside a run of prefixes of one octet count, which the decoder reads ahead.
        UpdateCase{"NlriRunsPastTheEndWithinARun",
                   update_bytes({}, mandatory(), {26, 10, 0, 0, 0, 26, 10, 0, 0, 64, 26, 10, 0, 0}), true, Reset, 0, 0, 10},
        UpdateCase{"NlriPrefixLengthAbove32AfterARun",
                   update_bytes({}, mandatory(), {26, 10, 0, 0, 0, 26, 10, 0, 0, 64, 33, 10, 0, 0, 0, 0}), true, Reset, 0, 0, 10},
        UpdateCase{"WithdrawnRunsPastTheEndWithinARun", update_bytes({16, 10, 9, 16, 10}, {}, {}), true, Reset, 0, 0, 10},
        UpdateCase{"WithdrawnPrefixUnparsable", update_bytes({40, 10}, {}, {}), true, Reset, 0, 0, 10},
        UpdateCase{"MpReachPrefixAbove128",
                   update_bytes({}, join({attribute(0x80, 14, {0, 2, 1, 16, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 129}),
                                          origin(), as_path()}), {}),
                   true, Reset, 0, 0, 10},
        UpdateCase{"OriginLengthNot1", update_bytes({}, join({attribute(0x40, 1, {0, 0}), as_path(), next_hop()}), nlri_10_1()),
                   true, Withdraw, 0, 1},
        UpdateCase{"OriginValue3", update_bytes({}, join({attribute(0x40, 1, {3}), as_path(), next_hop()}), nlri_10_1()), true,
                   Withdraw, 0, 1},
        UpdateCase{"AsPathBadSegmentType",
                   update_bytes({}, join({origin(), as_path_with({5, 1, 0, 0, 0, 1}), next_hop()}), nlri_10_1()), true,
                   Withdraw, 0, 1},
        UpdateCase{"AsPathZeroLengthSegment", update_bytes({}, join({origin(), as_path_with({2, 0}), next_hop()}), nlri_10_1()),
                   true, Withdraw, 0, 1},
        UpdateCase{"AsPathOverrun", update_bytes({}, join({origin(), as_path_with({2, 2, 0, 0, 0, 1}), next_hop()}), nlri_10_1()),
                   true, Withdraw, 0, 1},
        UpdateCase{"AsPathUnderrun",
                   update_bytes({}, join({origin(), as_path_with({2, 1, 0, 0, 0, 1, 2}), next_hop()}), nlri_10_1()), true,
                   Withdraw, 0, 1},
        UpdateCase{"NextHopLengthNot4", update_bytes({}, join({origin(), as_path(), attribute(0x40, 3, {10, 0, 0})}), nlri_10_1()),
                   true, Withdraw, 0, 1},
        UpdateCase{"MedLengthNot4", update_bytes({}, join({mandatory(), attribute(0x80, 4, {0, 1})}), nlri_10_1()), true, Withdraw,
                   0, 1},
        UpdateCase{"LocalPrefFromEbgpIsDiscarded", update_bytes({}, join({mandatory(), attribute(0x40, 5, {0, 0, 0, 100})}), nlri_10_1()),
                   true, Discard, 1, 0},
        UpdateCase{"LocalPrefFromIbgpWrongLength", update_bytes({}, join({mandatory(), attribute(0x40, 5, {0, 100})}), nlri_10_1()),
                   false, Withdraw, 0, 1},
        UpdateCase{"AtomicAggregateLengthNot0", update_bytes({}, join({mandatory(), attribute(0x40, 6, {1})}), nlri_10_1()), true,
                   Discard, 1, 0},
        UpdateCase{"AggregatorLengthNot8", update_bytes({}, join({mandatory(), attribute(0xc0, 7, {0, 1, 10, 0, 0, 1})}), nlri_10_1()),
                   true, Discard, 1, 0},
        UpdateCase{"CommunitiesLengthZero", update_bytes({}, join({mandatory(), attribute(0xc0, 8, {})}), nlri_10_1()), true,
                   Withdraw, 0, 1},
        UpdateCase{"CommunitiesLengthNotMultipleOf4", update_bytes({}, join({mandatory(), attribute(0xc0, 8, {0, 1, 2})}), nlri_10_1()),
                   true, Withdraw, 0, 1},
        UpdateCase{"LargeCommunitiesLengthNotMultipleOf12",
                   update_bytes({}, join({mandatory(), attribute(0xc0, 32, Bytes(8, 1))}), nlri_10_1()), true, Withdraw, 0, 1},
        UpdateCase{"ExtendedCommunitiesLengthNotMultipleOf8",
                   update_bytes({}, join({mandatory(), attribute(0xc0, 16, Bytes(7, 1))}), nlri_10_1()), true, Withdraw, 0, 1},
        UpdateCase{"OriginatorIdFromEbgpIsDiscarded", update_bytes({}, join({mandatory(), attribute(0x80, 9, {1, 2, 3, 4})}), nlri_10_1()),
                   true, Discard, 1, 0},
        UpdateCase{"ClusterListFromEbgpIsDiscarded", update_bytes({}, join({mandatory(), attribute(0x80, 10, {1, 2, 3, 4})}), nlri_10_1()),
                   true, Discard, 1, 0},
        UpdateCase{"MpReachNextHopLengthInconsistent",
                   update_bytes({}, join({mp_reach_v6(0x80, 4), origin(), as_path()}), {}), true, Reset, 0, 0, 9},
        UpdateCase{"UnknownOptionalTransitiveWithGarbage",
                   update_bytes({}, join({mandatory(), attribute(0xc0, 99, {0xde, 0xad})}), nlri_10_1()), true, Accept, 1, 0},
        UpdateCase{"UnknownOptionalNonTransitive", update_bytes({}, join({mandatory(), attribute(0x80, 98, {1})}), nlri_10_1()), true,
                   Accept, 1, 0},
        UpdateCase{"UnknownWellKnown", update_bytes({}, join({mandatory(), attribute(0x40, 97, {1})}), nlri_10_1()), true, Reset, 0,
                   0, 2},
        UpdateCase{"OnlyUnknownAttributes", update_bytes({}, attribute(0xc0, 99, {1}), {}), true, Accept, 0, 0},
        UpdateCase{"MpUnreachWithClassicNlriAndNoMandatory", update_bytes({}, mp_unreach_v6(), nlri_10_1()), true, Withdraw, 0, 2},
        UpdateCase{"UnspokenFamilyInMpReachIsIgnored",
                   update_bytes({}, join({attribute(0x80, 14, {0, 25, 70, 0, 0}), mandatory()}), nlri_10_1()), true, Discard, 1, 0}),
    [](const auto& info) { return std::string(info.param.name); });

// RFC 4456 §8: from an iBGP peer (a route reflector) the originator's BGP Identifier is kept, so
// the session can ignore its own routes reflected back to it.
TEST(UpdateErrors, OriginatorIdFromIbgpIsKept) {
  const ParsedUpdate u = run(update_bytes({}, join({mandatory(), attribute(0x80, 9, {10, 0, 0, 10})}), nlri_10_1()), false);
  EXPECT_EQ(u.action, UpdateAction::Accept);
  EXPECT_EQ(u.announced.size(), 1u);
  EXPECT_EQ(u.attributes.originator_id, 0x0a00000au);
}

// RFC 6793 §6: a malformed AS4_PATH is discarded (on a 2-octet session, where it is read).
TEST(UpdateErrors, MalformedAs4PathIsDiscarded) {
  Bytes as_path2 = attribute(0x40, 2, {2, 1, 0x5b, 0xa0});  // AS_TRANS
  Bytes m = update_bytes({}, join({origin(), as_path2, next_hop(), attribute(0xc0, 17, {2, 0})}), nlri_10_1());
  const ParsedUpdate u = run(m, true, false);
  EXPECT_EQ(u.action, UpdateAction::AttributeDiscard);
  EXPECT_EQ(u.announced.size(), 1u);
  EXPECT_EQ(to_string(*u.attributes.as_path), "23456");
}

TEST(UpdateErrors, MalformedAs4AggregatorIsDiscarded) {
  Bytes as_path2 = attribute(0x40, 2, {2, 1, 0xfd, 0xe9});
  Bytes m = update_bytes({}, join({origin(), as_path2, next_hop(), attribute(0xc0, 18, {1, 2, 3})}), nlri_10_1());
  const ParsedUpdate u = run(m, true, false);
  EXPECT_EQ(u.action, UpdateAction::AttributeDiscard);
  EXPECT_EQ(u.announced.size(), 1u);
}

TEST(UpdateErrors, RepeatedAttributeKeepsTheFirstValue) {
  const ParsedUpdate u = run(update_bytes({}, join({mandatory(), attribute(0x40, 1, {2})}), nlri_10_1()), true);
  EXPECT_EQ(u.attributes.origin, Origin::Igp);
}

TEST(UpdateErrors, UnrecognizedWellKnownCarriesTheAttributeAsData) {
  const ParsedUpdate u = run(update_bytes({}, join({mandatory(), attribute(0x40, 97, {1})}), nlri_10_1()), true);
  ASSERT_TRUE(u.reset.has_value());
  EXPECT_EQ(u.reset->notification.data, (Bytes{0x40, 97, 1, 1}));
}

TEST(UpdateErrors, VeryLongAsPathIsAccepted) {
  Bytes segs;
  for (int s = 0; s < 3; ++s) {  // 765 ASes, near the 4096-octet limit
    segs.push_back(2);
    segs.push_back(255);
    for (int i = 0; i < 255; ++i) put_u32(segs, 65000 + static_cast<std::uint32_t>(i));
  }
  const ParsedUpdate u = run(update_bytes({}, join({origin(), attribute(0x50, 2, segs), next_hop()}), nlri_10_1()), true);
  EXPECT_EQ(u.action, UpdateAction::Accept);
  ASSERT_TRUE(u.attributes.as_path.has_value());
  EXPECT_EQ(u.attributes.as_path->size(), 3u);
}

}  // namespace
}  // namespace blockd::bgp
