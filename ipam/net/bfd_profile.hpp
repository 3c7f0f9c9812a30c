// A peer's BFD timers as the operator writes them, named as MetalLB's BFDProfile names them
// (milliseconds). One home for the fields, defaults and limits, so the agent config, Calico's
// BGPPeer and the BFD module (bfd/) check them the same way.
#pragma once

#include <cstdint>
#include <string>

namespace blockd {

struct BfdProfile {
  std::uint32_t receive_interval_ms = 300;   // our Required Min RX Interval (RFC 5880 §4.1)
  std::uint32_t transmit_interval_ms = 300;  // our Desired Min TX Interval
  std::uint32_t detect_multiplier = 3;       // Detect Mult
  friend bool operator==(const BfdProfile&, const BfdProfile&) = default;
};

// MetalLB's BFDProfile limits: intervals 10..60000 ms, multiplier 2..255 (a multiplier of 1
// declares the session down on one lost packet).
inline constexpr std::uint32_t kBfdMinIntervalMs = 10;
inline constexpr std::uint32_t kBfdMaxIntervalMs = 60'000;
inline constexpr std::uint32_t kBfdMinDetectMultiplier = 2;
inline constexpr std::uint32_t kBfdMaxDetectMultiplier = 255;

// Empty when usable; otherwise the field (receiveInterval, transmitInterval, detectMultiplier)
// and the rule it breaks.
std::string bfd_profile_problem(const BfdProfile& profile);

}  // namespace blockd
