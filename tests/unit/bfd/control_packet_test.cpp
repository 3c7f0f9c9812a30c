// RFC 5880 §4.1 layout and the §6.8.6 reception checks that need no session.
#include "bfd/control_packet.hpp"

#include <gtest/gtest.h>

namespace blockd::bfd {
namespace {

ControlPacket sample() {
  ControlPacket p;
  p.diagnostic = Diagnostic::DetectionTimeExpired;
  p.state = State::Init;
  p.poll = true;
  p.detect_mult = 3;
  p.my_discriminator = 0x01020304;
  p.your_discriminator = 0x0a0b0c0d;
  p.desired_min_tx = Micros(300'000);
  p.required_min_rx = Micros(100'000);
  return p;
}

TEST(BfdControlPacket, EncodesTheRfc5880Layout) {
  Bytes wire = encode(sample());
  const Bytes expected = {
      0x21, 0xa0, 0x03, 0x18,  // version 1, diag 1; state Init (2), P; mult 3; length 24
      0x01, 0x02, 0x03, 0x04,  // my discriminator
      0x0a, 0x0b, 0x0c, 0x0d,  // your discriminator
      0x00, 0x04, 0x93, 0xe0,  // desired min tx 300000 us
      0x00, 0x01, 0x86, 0xa0,  // required min rx 100000 us
      0x00, 0x00, 0x00, 0x00,  // required min echo rx
  };
  EXPECT_EQ(wire, expected);
}

TEST(BfdControlPacket, RoundTrips) {
  for (State s : {State::AdminDown, State::Down, State::Init, State::Up}) {
    ControlPacket p = sample();
    p.state = s;
    p.poll = false;
    p.final = true;
    p.demand = true;
    p.control_plane_independent = true;
    auto back = decode(encode(p));
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(*back, p);
  }
}

TEST(BfdControlPacket, AcceptsTrailingOctetsBeyondLength) {
  Bytes wire = encode(sample());
  wire.push_back(0);
  EXPECT_TRUE(decode(wire).ok());
}

struct Refusal {
  const char* name;
  std::function<void(Bytes&)> mutate;
  const char* message_part;
};

class BfdControlPacketRefuses : public testing::TestWithParam<Refusal> {};

TEST_P(BfdControlPacketRefuses, NamesTheRule) {
  Bytes wire = encode(sample());
  GetParam().mutate(wire);
  auto r = decode(wire);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find(GetParam().message_part), std::string::npos) << r.error();
}

INSTANTIATE_TEST_SUITE_P(
    Rfc5880Section686, BfdControlPacketRefuses,
    testing::Values(
        Refusal{"Short", [](Bytes& b) { b.resize(23); }, "shorter than a Control packet"},
        Refusal{"Version0", [](Bytes& b) { b[0] = static_cast<std::uint8_t>(b[0] & 0x1f); }, "Version 0"},
        Refusal{"Version2", [](Bytes& b) { b[0] = static_cast<std::uint8_t>((b[0] & 0x1f) | 0x40); }, "Version 2"},
        Refusal{"LengthBelow24", [](Bytes& b) { b[3] = 20; }, "less than 24"},
        Refusal{"LengthBeyondDatagram", [](Bytes& b) { b[3] = 26; }, "exceeds the 24 octets"},
        Refusal{"AuthBit", [](Bytes& b) { b[1] |= 0x04; }, "A bit"},
        Refusal{"DetectMultZero", [](Bytes& b) { b[2] = 0; }, "Detect Mult is 0"},
        Refusal{"Multipoint", [](Bytes& b) { b[1] |= 0x01; }, "M bit"},
        Refusal{"MyDiscriminatorZero", [](Bytes& b) { b[4] = b[5] = b[6] = b[7] = 0; }, "My Discriminator is 0"},
        Refusal{"YourDiscriminatorZeroWhenInit", [](Bytes& b) { b[8] = b[9] = b[10] = b[11] = 0; },
                "Your Discriminator is 0 in state Init"},
        Refusal{"PollAndFinal", [](Bytes& b) { b[1] |= 0x10; }, "P and F"}),
    [](const testing::TestParamInfo<Refusal>& info) { return info.param.name; });

TEST(BfdControlPacket, AcceptsYourDiscriminatorZeroWhenDownOrAdminDown) {
  for (State s : {State::Down, State::AdminDown}) {
    ControlPacket p = sample();
    p.state = s;
    p.your_discriminator = 0;
    EXPECT_TRUE(decode(encode(p)).ok()) << to_string(s);
  }
}

}  // namespace
}  // namespace blockd::bfd
