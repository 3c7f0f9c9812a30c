#include "bfd/control_packet.hpp"

namespace blockd::bfd {

namespace {

constexpr std::uint8_t kPoll = 0x20, kFinal = 0x10, kCpi = 0x08, kAuth = 0x04, kDemand = 0x02, kMultipoint = 0x01;

void put_u32(Bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

std::uint32_t get_u32(ByteView b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) |
         std::uint32_t{b[at + 3]};
}

// Intervals are 32-bit microsecond counts on the wire.
std::uint32_t wire_micros(Micros m) {
  if (m.count() <= 0) return 0;
  if (m.count() > 0xffffffffLL) return 0xffffffffU;
  return static_cast<std::uint32_t>(m.count());
}

}  // namespace

std::string_view to_string(State s) {
  switch (s) {
    case State::AdminDown: return "AdminDown";
    case State::Down: return "Down";
    case State::Init: return "Init";
    case State::Up: return "Up";
  }
  return "?";
}

std::string_view to_string(Diagnostic d) {
  switch (d) {
    case Diagnostic::None: return "none";
    case Diagnostic::DetectionTimeExpired: return "control detection time expired";
    case Diagnostic::EchoFailed: return "echo function failed";
    case Diagnostic::NeighborSignaledDown: return "neighbor signaled session down";
    case Diagnostic::ForwardingPlaneReset: return "forwarding plane reset";
    case Diagnostic::PathDown: return "path down";
    case Diagnostic::ConcatenatedPathDown: return "concatenated path down";
    case Diagnostic::AdministrativelyDown: return "administratively down";
    case Diagnostic::ReverseConcatenatedPathDown: return "reverse concatenated path down";
  }
  return "unknown";
}

Bytes encode(const ControlPacket& p) {
  Bytes out;
  out.reserve(kControlPacketSize);
  out.push_back(static_cast<std::uint8_t>((kVersion << 5) | (static_cast<std::uint8_t>(p.diagnostic) & 0x1f)));
  std::uint8_t flags = static_cast<std::uint8_t>(static_cast<std::uint8_t>(p.state) << 6);
  if (p.poll) flags |= kPoll;
  if (p.final) flags |= kFinal;
  if (p.control_plane_independent) flags |= kCpi;
  if (p.demand) flags |= kDemand;
  out.push_back(flags);
  out.push_back(p.detect_mult);
  out.push_back(static_cast<std::uint8_t>(kControlPacketSize));
  put_u32(out, p.my_discriminator);
  put_u32(out, p.your_discriminator);
  put_u32(out, wire_micros(p.desired_min_tx));
  put_u32(out, wire_micros(p.required_min_rx));
  put_u32(out, wire_micros(p.required_min_echo_rx));
  return out;
}

Result<ControlPacket, std::string> decode(ByteView b) {
  if (b.size() < kControlPacketSize) {
    return "datagram of " + std::to_string(b.size()) + " octets is shorter than a Control packet (24)";
  }
  std::uint8_t version = b[0] >> 5;
  if (version != kVersion) return "Version " + std::to_string(version) + " is not 1";
  std::uint8_t flags = b[1];
  std::size_t length = b[3];
  if (flags & kAuth) return std::string("A bit set: authentication is not in use");
  if (length < kControlPacketSize) return "Length " + std::to_string(length) + " is less than 24";
  if (length > b.size()) {
    return "Length " + std::to_string(length) + " exceeds the " + std::to_string(b.size()) + " octets received";
  }
  ControlPacket p;
  std::uint8_t diag = b[0] & 0x1f;
  if (diag > static_cast<std::uint8_t>(Diagnostic::ReverseConcatenatedPathDown)) {
    diag = 0;  // §4.1 reserves the other values; the diagnostic is informational only
  }
  p.diagnostic = static_cast<Diagnostic>(diag);
  p.state = static_cast<State>(flags >> 6);
  p.poll = flags & kPoll;
  p.final = flags & kFinal;
  p.control_plane_independent = flags & kCpi;
  p.demand = flags & kDemand;
  p.detect_mult = b[2];
  p.my_discriminator = get_u32(b, 4);
  p.your_discriminator = get_u32(b, 8);
  p.desired_min_tx = Micros(get_u32(b, 12));
  p.required_min_rx = Micros(get_u32(b, 16));
  p.required_min_echo_rx = Micros(get_u32(b, 20));
  if (p.detect_mult == 0) return std::string("Detect Mult is 0");
  if (flags & kMultipoint) return std::string("M bit set: multipoint is not in use");
  if (p.my_discriminator == 0) return std::string("My Discriminator is 0");
  if (p.your_discriminator == 0 && p.state != State::Down && p.state != State::AdminDown) {
    return "Your Discriminator is 0 in state " + std::string(to_string(p.state));
  }
  if (p.poll && p.final) return std::string("P and F bits both set");  // §6.8.7
  return p;
}

}  // namespace blockd::bfd
