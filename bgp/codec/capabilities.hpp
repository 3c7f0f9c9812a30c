// OPEN capabilities (RFC 5492) and what two OPENs negotiate: multiprotocol (RFC 4760), route
// refresh (RFC 2918), extended message (RFC 8654), graceful restart (RFC 4724) and 4-octet AS
// (RFC 6793); then the OPEN checks of RFC 4271 §6.2.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "bgp/codec/message.hpp"

namespace blockd::bgp {

enum class Afi : std::uint16_t { Ipv4 = 1, Ipv6 = 2 };
inline constexpr std::uint8_t kSafiUnicast = 1;

namespace cap {
inline constexpr std::uint8_t kMultiprotocol = 1, kRouteRefresh = 2, kExtendedMessage = 6,
                              kGracefulRestart = 64, kFourOctetAs = 65, kEnhancedRouteRefresh = 70,
                              kCiscoRouteRefresh = 128;
}

struct AddressFamily {
  std::uint16_t afi = 1;
  std::uint8_t safi = kSafiUnicast;
  friend bool operator==(const AddressFamily&, const AddressFamily&) = default;
};

struct GracefulRestartCapability {
  bool restart_state = false;   // R bit: the sender has just restarted
  std::uint16_t restart_time = 0;  // seconds, 12 bits
  struct Family {
    AddressFamily family;
    bool forwarding_preserved = false;  // F bit
    friend bool operator==(const Family&, const Family&) = default;
  };
  std::vector<Family> families;
  friend bool operator==(const GracefulRestartCapability&, const GracefulRestartCapability&) = default;
};

struct Capabilities {
  std::vector<AddressFamily> multiprotocol;
  bool route_refresh = false;
  bool extended_message = false;
  std::optional<std::uint32_t> four_octet_as;
  std::optional<GracefulRestartCapability> graceful_restart;
  std::vector<std::uint8_t> other;  // codes we do not interpret
  friend bool operator==(const Capabilities&, const Capabilities&) = default;

  bool has_family(AddressFamily f) const;
};

// Reads every capability of every capabilities parameter; a malformed one is 2/0.
// Parameters of other types are 2/4 (Unsupported Optional Parameter, RFC 4271 §6.2).
WireResult<Capabilities> parse_capabilities(const OpenMessage& open);

// One capabilities parameter holding all of ours, in code order.
OpenMessage make_open(std::uint32_t local_as, std::uint16_t hold_time, std::uint32_t bgp_id,
                      const Capabilities& caps);

// What we expect of the peer's OPEN.
struct OpenExpectation {
  std::uint32_t peer_as = 0;
  std::uint32_t local_as = 0;
  std::uint32_t local_id = 0;
  std::uint16_t hold_time = 90;  // ours
};

// The session's terms once both OPENs are known.
struct Negotiated {
  std::uint32_t peer_as = 0;
  std::uint32_t peer_id = 0;
  std::uint16_t hold_time = 0;       // 0: no hold timer and no keepalives (RFC 4271 §4.2)
  std::uint16_t keepalive_time = 0;  // hold_time / 3
  bool four_octet_as = false;
  bool extended_message = false;
  bool route_refresh = false;
  std::vector<AddressFamily> families;  // both sides; IPv4 unicast when neither sent MP caps
  std::optional<GracefulRestartCapability> peer_graceful_restart;
  bool ibgp() const;
  std::uint32_t local_as = 0;
  bool has_family(AddressFamily f) const;
};

// RFC 4271 §6.2 checks of the peer's OPEN against ours; the error is the NOTIFICATION to send.
WireResult<Negotiated> negotiate(const OpenMessage& theirs, const Capabilities& ours,
                                 const OpenExpectation& expect);

}  // namespace blockd::bgp
