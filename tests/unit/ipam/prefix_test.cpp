#include "ipam/net/prefix.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace blockd::ipam {
namespace {

Prefix P(const char* s) { return Prefix::parse(s).value(); }
Address A(const char* s) { return Address::parse(s).value(); }

TEST(Address, ParsesAndFormatsBothFamilies) {
  EXPECT_EQ(A("192.168.0.1").str(), "192.168.0.1");
  EXPECT_TRUE(A("192.168.0.1").is_v4());
  EXPECT_EQ(A("2001:DB8::1").str(), "2001:db8::1");
  EXPECT_EQ(A("2001:db8::1").family(), Family::V6);
  EXPECT_EQ(A("10.0.0.1").v4_value(), 0x0a000001u);
}

TEST(Address, RejectsGarbage) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "::g", "abc", "1.2.3.4 "}) {
    auto r = Address::parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find("is not an IP address"), std::string::npos);
    }
  }
}

TEST(Address, OrdersV4BeforeV6AndNumerically) {
  EXPECT_LT(A("10.0.0.2"), A("10.0.0.10"));
  EXPECT_LT(A("255.255.255.255"), A("::"));
}

TEST(Prefix, ParseIsStrictAboutHostBits) {
  auto r = Prefix::parse("192.168.0.1/24");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "\"192.168.0.1/24\" has host bits set (did you mean 192.168.0.0/24?)");
  EXPECT_EQ(P("192.168.0.0/24").str(), "192.168.0.0/24");
  EXPECT_EQ(P("10.1.2.3").str(), "10.1.2.3/32");
  EXPECT_EQ(P("fd00::/64").str(), "fd00::/64");
}

TEST(Prefix, ParseRejectsBadLengths) {
  EXPECT_FALSE(Prefix::parse("10.0.0.0/33").ok());
  EXPECT_FALSE(Prefix::parse("10.0.0.0/").ok());
  EXPECT_FALSE(Prefix::parse("10.0.0.0/x").ok());
  EXPECT_FALSE(Prefix::parse("fd00::/129").ok());
  EXPECT_TRUE(Prefix::parse("fd00::/128").ok());
  EXPECT_TRUE(Prefix::parse("0.0.0.0/0").ok());
}

TEST(Prefix, ContainsAndOverlaps) {
  EXPECT_TRUE(P("192.168.0.0/16").contains(A("192.168.255.255")));
  EXPECT_FALSE(P("192.168.0.0/16").contains(A("192.169.0.0")));
  EXPECT_FALSE(P("192.168.0.0/16").contains(A("::1")));
  EXPECT_TRUE(P("192.168.0.0/16").contains(P("192.168.1.0/24")));
  EXPECT_FALSE(P("192.168.1.0/24").contains(P("192.168.0.0/16")));
  EXPECT_TRUE(P("192.168.1.0/24").overlaps(P("192.168.0.0/16")));
  EXPECT_FALSE(P("192.168.1.0/24").overlaps(P("192.168.2.0/24")));
  EXPECT_TRUE(P("169.254.0.0/16").overlaps(P("169.254.3.0/24")));
  EXPECT_TRUE(P("fe80::/10").overlaps(P("fe80::/64")));
  EXPECT_FALSE(P("10.0.0.0/8").overlaps(P("::/0")));
  EXPECT_TRUE(P("0.0.0.0/0").contains(A("1.2.3.4")));
}

TEST(Prefix, IteratesBlocksInOrder) {
  std::vector<std::string> got;
  for (auto b : P("192.168.0.0/24").blocks(26)) got.push_back(b.str());
  EXPECT_EQ(got, (std::vector<std::string>{"192.168.0.0/26", "192.168.0.64/26", "192.168.0.128/26",
                                           "192.168.0.192/26"}));
  EXPECT_EQ(P("192.168.0.0/24").blocks(20).count(), 0u);
  EXPECT_EQ(P("fd00::/64").blocks(122).count(), uint128{1} << 58);
  EXPECT_EQ(P("fd00::/64").blocks(122).at(3).str(), "fd00::c0/122");
}

TEST(Prefix, AddressArithmetic) {
  EXPECT_EQ(P("192.168.0.64/26").at(5).str(), "192.168.0.69");
  EXPECT_EQ(P("192.168.0.64/26").ordinal(A("192.168.0.69")), 5u);
  EXPECT_EQ(P("192.168.0.64/26").last().str(), "192.168.0.127");
  EXPECT_EQ(P("192.168.0.64/26").size(), 64u);
  EXPECT_EQ(P("fd00::/122").last().str(), "fd00::3f");
  EXPECT_EQ(Prefix::make(A("192.168.1.77"), 26).str(), "192.168.1.64/26");
}

// The constructors the BGP decoder uses (one mask per word) agree with make() (a byte at a time)
// at every length, and a length beyond the family's is its full length.
TEST(Prefix, FromNumbersClearsHostBitsAsMakeDoes) {
  EXPECT_EQ(Prefix(Prefix::V4{0x0a0000ffu}, 24).str(), "10.0.0.0/24");
  for (unsigned length = 0; length <= 40; ++length) {
    EXPECT_EQ(Prefix(Prefix::V4{0xa55aa55au}, length), Prefix::make(A("165.90.165.90"), length)) << length;
  }
  const Address v6 = A("a55a:a55a:a55a:a55a:5aa5:5aa5:5aa5:5aa5");
  for (unsigned length = 0; length <= 140; ++length) {
    EXPECT_EQ(Prefix(Prefix::V6{0xa55aa55aa55aa55aull, 0x5aa55aa55aa55aa5ull}, length), Prefix::make(v6, length)) << length;
  }
}

TEST(InterfaceAddress, KeepsHostBitsAndGivesSubnet) {
  auto ia = InterfaceAddress::parse("10.0.0.10/24").value();
  EXPECT_EQ(ia.address.str(), "10.0.0.10");
  EXPECT_EQ(ia.subnet().str(), "10.0.0.0/24");
  EXPECT_FALSE(InterfaceAddress::parse("10.0.0.10").ok());
}

}  // namespace
}  // namespace blockd::ipam
