// The BFD Control packet (RFC 5880 §4.1) and the checks of §6.8.6 that need no session: pure,
// bytes in, values out, and back. The mandatory section is 24 octets; blockd runs no
// authentication, so a packet with the A bit is refused (§6.8.6: A bit set, no auth in use).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//   |                       My Discriminator                        |
//   |                      Your Discriminator                       |
//   |                    Desired Min TX Interval                    |
//   |                   Required Min RX Interval                    |
//   |                 Required Min Echo RX Interval                 |
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ipam/net/result.hpp"

namespace blockd::bfd {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
using Micros = std::chrono::microseconds;

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kControlPacketSize = 24;    // no authentication section
inline constexpr std::size_t kMaxControlPacketSize = 64;  // 24 + the largest auth section (28)

// bfd.SessionState values as the Sta field carries them (§4.1).
enum class State : std::uint8_t { AdminDown = 0, Down = 1, Init = 2, Up = 3 };

// The Diag field (§4.1).
enum class Diagnostic : std::uint8_t {
  None = 0,
  DetectionTimeExpired = 1,
  EchoFailed = 2,
  NeighborSignaledDown = 3,
  ForwardingPlaneReset = 4,
  PathDown = 5,
  ConcatenatedPathDown = 6,
  AdministrativelyDown = 7,
  ReverseConcatenatedPathDown = 8,
};

std::string_view to_string(State s);
std::string_view to_string(Diagnostic d);

struct ControlPacket {
  Diagnostic diagnostic = Diagnostic::None;
  State state = State::Down;
  bool poll = false;
  bool final = false;
  bool control_plane_independent = false;
  bool demand = false;
  std::uint8_t detect_mult = 0;
  std::uint32_t my_discriminator = 0;
  std::uint32_t your_discriminator = 0;
  Micros desired_min_tx{0};
  Micros required_min_rx{0};
  Micros required_min_echo_rx{0};
  friend bool operator==(const ControlPacket&, const ControlPacket&) = default;
};

Bytes encode(const ControlPacket& packet);

// §6.8.6's checks on the packet alone: version 1; Length at least 24 and at most the octets
// received; the A bit clear (no authentication in use); Detect Mult not 0; M bit clear; My
// Discriminator not 0; Your Discriminator 0 only in state Down or AdminDown; P and F not both
// (§6.8.7). The error names the field and the rule.
Result<ControlPacket, std::string> decode(ByteView datagram);

}  // namespace blockd::bfd
