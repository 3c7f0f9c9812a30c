// BGP messages on the wire (RFC 4271 §4): framing, OPEN, UPDATE, NOTIFICATION, KEEPALIVE and
// ROUTE-REFRESH (RFC 2918). Pure: bytes in, values out, and back; encode(decode(b)) == b.
// An UPDATE decodes to views into the caller's buffer (no copy); attributes.hpp interprets it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bgp/codec/wire.hpp"
#include "ipam/net/result.hpp"

namespace blockd::bgp {

inline constexpr std::size_t kHeaderSize = 19;
inline constexpr std::size_t kMaxMessageSize = 4096;           // RFC 4271 §4.1
inline constexpr std::size_t kMaxExtendedMessageSize = 65535;  // RFC 8654
inline constexpr std::uint16_t kAsTrans = 23456;               // RFC 6793 §9

enum class MessageType : std::uint8_t {
  Open = 1,
  Update = 2,
  Notification = 3,
  Keepalive = 4,
  RouteRefresh = 5,
};

// NOTIFICATION error codes (RFC 4271 §4.5) and the subcodes we send.
namespace err {
inline constexpr std::uint8_t kHeader = 1, kOpen = 2, kUpdate = 3, kHoldTimer = 4, kFsm = 5,
                              kCease = 6, kRouteRefresh = 7;
// Header (RFC 4271 §6.1)
inline constexpr std::uint8_t kNotSynchronized = 1, kBadLength = 2, kBadType = 3;
// OPEN (RFC 4271 §6.2, RFC 5492)
inline constexpr std::uint8_t kUnsupportedVersion = 1, kBadPeerAs = 2, kBadBgpId = 3,
                              kUnsupportedParameter = 4, kUnacceptableHoldTime = 6,
                              kUnsupportedCapability = 7;
// UPDATE (RFC 4271 §6.3)
inline constexpr std::uint8_t kMalformedAttributeList = 1, kUnrecognizedWellKnown = 2,
                              kMissingWellKnown = 3, kAttributeFlags = 4, kAttributeLength = 5,
                              kInvalidOrigin = 6, kInvalidNextHop = 8, kOptionalAttribute = 9,
                              kInvalidNetwork = 10, kMalformedAsPath = 11;
// FSM (RFC 6608)
inline constexpr std::uint8_t kFsmInOpenSent = 1, kFsmInOpenConfirm = 2, kFsmInEstablished = 3;
// Cease (RFC 4486)
inline constexpr std::uint8_t kCeaseMaxPrefixes = 1, kCeaseShutdown = 2, kCeasePeerDeconfigured = 3,
                              kCeaseAdminReset = 4, kCeaseRejected = 5, kCeaseConfigChange = 6,
                              kCeaseCollision = 7, kCeaseOutOfResources = 8;
// ROUTE-REFRESH (RFC 7313 §5)
inline constexpr std::uint8_t kInvalidRouteRefreshLength = 1;
}  // namespace err

struct OptionalParameter {
  std::uint8_t type = 2;  // 2: capabilities (RFC 5492)
  Bytes value;
  friend bool operator==(const OptionalParameter&, const OptionalParameter&) = default;
};

struct OpenMessage {
  std::uint8_t version = 4;
  std::uint16_t my_as = 0;
  std::uint16_t hold_time = 0;
  std::uint32_t bgp_id = 0;
  std::vector<OptionalParameter> parameters;
  friend bool operator==(const OpenMessage&, const OpenMessage&) = default;
};

// The three variable parts of an UPDATE (RFC 4271 §4.3), as views into the decoded buffer.
struct UpdateMessage {
  ByteView withdrawn_routes;
  ByteView path_attributes;
  ByteView nlri;
  friend bool operator==(const UpdateMessage& a, const UpdateMessage& b);
};

struct NotificationMessage {
  std::uint8_t code = 0;
  std::uint8_t subcode = 0;
  Bytes data;
  friend bool operator==(const NotificationMessage&, const NotificationMessage&) = default;
};
std::string describe(const NotificationMessage& n);  // "3/1 (UPDATE: Malformed Attribute List)"

struct KeepaliveMessage {
  friend bool operator==(const KeepaliveMessage&, const KeepaliveMessage&) = default;
};

struct RouteRefreshMessage {
  std::uint16_t afi = 1;
  std::uint8_t subtype = 0;  // reserved in RFC 2918; RFC 7313 subtypes
  std::uint8_t safi = 1;
  friend bool operator==(const RouteRefreshMessage&, const RouteRefreshMessage&) = default;
};

using Message = std::variant<OpenMessage, UpdateMessage, NotificationMessage, KeepaliveMessage,
                             RouteRefreshMessage>;
MessageType type_of(const Message& m);

// A decode failure: the NOTIFICATION to send and a sentence for the log.
struct WireError {
  NotificationMessage notification;
  std::string reason;
};

template <class T>
using WireResult = Result<T, WireError>;

WireError wire_error(std::uint8_t code, std::uint8_t subcode, std::string reason, Bytes data = {});

struct FramingOptions {
  bool extended_message = false;  // RFC 8654, once both sides advertised it
};

// Checks the header at the start of `buffer` (which holds at least kHeaderSize octets) and
// returns the whole message's length (RFC 4271 §6.1).
WireResult<std::size_t> frame_length(ByteView buffer, FramingOptions options);

// Decodes exactly one message (header included). UpdateMessage views point into `message`.
WireResult<Message> decode(ByteView message, FramingOptions options = {});

// Appends the encoded message (header included) to out.
void encode_to(const Message& m, Bytes& out);
Bytes encode(const Message& m);

// Writes a header with a placeholder length; finish_message patches it once the body is in.
std::size_t begin_message(Bytes& out, MessageType type);
void finish_message(Bytes& out, std::size_t start);

}  // namespace blockd::bgp
