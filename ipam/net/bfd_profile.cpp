#include "ipam/net/bfd_profile.hpp"

namespace blockd {

namespace {
std::string interval_problem(const char* field, std::uint32_t ms) {
  if (ms >= kBfdMinIntervalMs && ms <= kBfdMaxIntervalMs) return {};
  return std::string(field) + " " + std::to_string(ms) + " ms is out of range: must be " +
         std::to_string(kBfdMinIntervalMs) + ".." + std::to_string(kBfdMaxIntervalMs) + " ms";
}
}  // namespace

std::string bfd_profile_problem(const BfdProfile& profile) {
  if (auto p = interval_problem("receiveInterval", profile.receive_interval_ms); !p.empty()) return p;
  if (auto p = interval_problem("transmitInterval", profile.transmit_interval_ms); !p.empty()) return p;
  if (profile.detect_multiplier < kBfdMinDetectMultiplier || profile.detect_multiplier > kBfdMaxDetectMultiplier) {
    return "detectMultiplier " + std::to_string(profile.detect_multiplier) + " is out of range: must be " +
           std::to_string(kBfdMinDetectMultiplier) + ".." + std::to_string(kBfdMaxDetectMultiplier);
  }
  return {};
}

}  // namespace blockd
