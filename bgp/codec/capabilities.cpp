#include "bgp/codec/capabilities.hpp"

#include <algorithm>

namespace blockd::bgp {

bool Capabilities::has_family(AddressFamily f) const {
  return std::ranges::find(multiprotocol, f) != multiprotocol.end();
}

bool Negotiated::ibgp() const { return peer_as == local_as; }

bool Negotiated::has_family(AddressFamily f) const {
  return std::ranges::find(families, f) != families.end();
}

namespace {

WireError malformed(const std::string& what) {
  return wire_error(err::kOpen, 0, "malformed capability: " + what);
}

}  // namespace

WireResult<Capabilities> parse_capabilities(const OpenMessage& open) {
  Capabilities caps;
  for (const auto& param : open.parameters) {
    if (param.type != 2) {
      return wire_error(err::kOpen, err::kUnsupportedParameter,
                        "unsupported optional parameter type " + std::to_string(param.type));
    }
    WireReader r(param.value);
    while (!r.empty()) {
      std::uint8_t code = 0;
      std::uint8_t len = 0;
      ByteView value;
      if (!r.u8(code) || !r.u8(len) || !r.take(len, value)) {
        return malformed("capability runs past its parameter");
      }
      WireReader v(value);
      switch (code) {
        case cap::kMultiprotocol: {
          std::uint16_t afi = 0;
          std::uint8_t reserved = 0;
          std::uint8_t safi = 0;
          if (len != 4 || !v.u16(afi) || !v.u8(reserved) || !v.u8(safi)) return malformed("multiprotocol length");
          AddressFamily f{afi, safi};
          if (!caps.has_family(f)) caps.multiprotocol.push_back(f);
          break;
        }
        case cap::kRouteRefresh:
        case cap::kCiscoRouteRefresh:
          caps.route_refresh = true;
          break;
        case cap::kExtendedMessage:
          caps.extended_message = true;
          break;
        case cap::kFourOctetAs: {
          std::uint32_t as = 0;
          if (len != 4 || !v.u32(as)) return malformed("4-octet AS length");
          caps.four_octet_as = as;
          break;
        }
        case cap::kGracefulRestart: {
          // RFC 4724 §3: 2 octets of flags+time, then 4 octets per family.
          std::uint16_t flags_time = 0;
          if (len < 2 || (len - 2) % 4 != 0 || !v.u16(flags_time)) return malformed("graceful restart length");
          GracefulRestartCapability gr;
          gr.restart_state = (flags_time & 0x8000) != 0;
          gr.restart_time = flags_time & 0x0fff;
          while (!v.empty()) {
            GracefulRestartCapability::Family f;
            std::uint8_t flags = 0;
            v.u16(f.family.afi);
            v.u8(f.family.safi);
            v.u8(flags);
            f.forwarding_preserved = (flags & 0x80) != 0;
            gr.families.push_back(f);
          }
          caps.graceful_restart = gr;
          break;
        }
        default:
          caps.other.push_back(code);
      }
    }
  }
  return caps;
}

OpenMessage make_open(std::uint32_t local_as, std::uint16_t hold_time, std::uint32_t bgp_id,
                      const Capabilities& caps) {
  OpenMessage open;
  open.my_as = local_as > 0xffff ? kAsTrans : static_cast<std::uint16_t>(local_as);
  open.hold_time = hold_time;
  open.bgp_id = bgp_id;
  Bytes v;
  for (const auto& f : caps.multiprotocol) {
    put_u8(v, cap::kMultiprotocol);
    put_u8(v, 4);
    put_u16(v, f.afi);
    put_u8(v, 0);
    put_u8(v, f.safi);
  }
  if (caps.route_refresh) {
    put_u8(v, cap::kRouteRefresh);
    put_u8(v, 0);
  }
  if (caps.extended_message) {
    put_u8(v, cap::kExtendedMessage);
    put_u8(v, 0);
  }
  if (caps.graceful_restart) {
    const auto& gr = *caps.graceful_restart;
    put_u8(v, cap::kGracefulRestart);
    put_u8(v, static_cast<std::uint8_t>(2 + 4 * gr.families.size()));
    put_u16(v, static_cast<std::uint16_t>((gr.restart_state ? 0x8000 : 0) | (gr.restart_time & 0x0fff)));
    for (const auto& f : gr.families) {
      put_u16(v, f.family.afi);
      put_u8(v, f.family.safi);
      put_u8(v, f.forwarding_preserved ? 0x80 : 0);
    }
  }
  if (caps.four_octet_as) {
    put_u8(v, cap::kFourOctetAs);
    put_u8(v, 4);
    put_u32(v, *caps.four_octet_as);
  }
  if (!v.empty()) open.parameters.push_back({2, std::move(v)});
  return open;
}

WireResult<Negotiated> negotiate(const OpenMessage& theirs, const Capabilities& ours,
                                 const OpenExpectation& expect) {
  if (theirs.version != 4) {
    return wire_error(err::kOpen, err::kUnsupportedVersion,
                      "peer speaks BGP version " + std::to_string(theirs.version), Bytes{0, 4});
  }
  auto caps = parse_capabilities(theirs);
  if (!caps) return caps.error();
  Negotiated n;
  n.local_as = expect.local_as;
  // RFC 6793 §4.1: the AS is the 4-octet capability's when present (AS_TRANS in my_as).
  n.peer_as = caps->four_octet_as.value_or(theirs.my_as);
  // RFC 7607 §2: AS 0 in an OPEN is a Bad Peer AS; so is AS_TRANS as the 4-octet AS itself
  // (RFC 6793 reserves it to stand in for one), as FRR decides.
  if (n.peer_as == 0 || (caps->four_octet_as && *caps->four_octet_as == kAsTrans)) {
    return wire_error(err::kOpen, err::kBadPeerAs, "peer says AS " + std::to_string(n.peer_as) + ", which is reserved",
                      Bytes{static_cast<std::uint8_t>(theirs.my_as >> 8), static_cast<std::uint8_t>(theirs.my_as)});
  }
  if (n.peer_as != expect.peer_as) {
    return wire_error(err::kOpen, err::kBadPeerAs,
                      "peer says AS " + std::to_string(n.peer_as) + ", configured AS " +
                          std::to_string(expect.peer_as),
                      Bytes{static_cast<std::uint8_t>(theirs.my_as >> 8), static_cast<std::uint8_t>(theirs.my_as)});
  }
  // RFC 4271 §6.2 (and RFC 6286 §2.2 for iBGP): identifier 0, or ours on iBGP, is bad.
  if (theirs.bgp_id == 0 || (n.ibgp() && theirs.bgp_id == expect.local_id)) {
    return wire_error(err::kOpen, err::kBadBgpId, "bad BGP identifier");
  }
  // RFC 4271 §4.2: hold time 0 or at least 3 seconds.
  if (theirs.hold_time == 1 || theirs.hold_time == 2) {
    return wire_error(err::kOpen, err::kUnacceptableHoldTime,
                      "hold time " + std::to_string(theirs.hold_time) + " is below 3 seconds");
  }
  n.peer_id = theirs.bgp_id;
  n.hold_time = std::min(theirs.hold_time, expect.hold_time);
  n.keepalive_time = n.hold_time / 3;
  n.four_octet_as = caps->four_octet_as.has_value() && ours.four_octet_as.has_value();
  n.extended_message = caps->extended_message && ours.extended_message;
  n.route_refresh = caps->route_refresh && ours.route_refresh;
  // RFC 4760 §8: with no multiprotocol capability, a speaker does IPv4 unicast only.
  std::vector<AddressFamily> theirs_families = caps->multiprotocol;
  if (theirs_families.empty()) theirs_families.push_back({1, kSafiUnicast});
  std::vector<AddressFamily> ours_families = ours.multiprotocol;
  if (ours_families.empty()) ours_families.push_back({1, kSafiUnicast});
  for (const auto& f : ours_families) {
    if (std::ranges::find(theirs_families, f) != theirs_families.end()) n.families.push_back(f);
  }
  if (n.families.empty()) {
    return wire_error(err::kOpen, err::kUnsupportedCapability, "no address family in common");
  }
  if (ours.graceful_restart) n.peer_graceful_restart = caps->graceful_restart;
  return n;
}

}  // namespace blockd::bgp
