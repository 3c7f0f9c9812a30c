// Hand-built UPDATE bytes for the error-handling tables: each helper writes exactly what a
// (possibly broken) peer would put on the wire.
#pragma once

#include <initializer_list>

#include "bgp/codec/message.hpp"

namespace blockd::bgp::testing {

inline Bytes attribute(std::uint8_t flags, std::uint8_t type, Bytes value) {
  Bytes out{flags, type};
  if (flags & 0x10) put_u16(out, static_cast<std::uint16_t>(value.size()));
  else out.push_back(static_cast<std::uint8_t>(value.size()));
  put_bytes(out, value);
  return out;
}

inline Bytes join(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) put_bytes(out, p);
  return out;
}

inline Bytes update_bytes(const Bytes& withdrawn, const Bytes& attributes, const Bytes& nlri) {
  Bytes out(16, 0xff);
  put_u16(out, 0);
  out.push_back(2);
  put_u16(out, static_cast<std::uint16_t>(withdrawn.size()));
  put_bytes(out, withdrawn);
  put_u16(out, static_cast<std::uint16_t>(attributes.size()));
  put_bytes(out, attributes);
  put_bytes(out, nlri);
  patch_u16(out, 16, out.size());
  return out;
}

// The well-formed mandatory attributes for IPv4 NLRI: ORIGIN IGP, AS_PATH 65001 (4-octet),
// NEXT_HOP 10.0.0.1.
inline Bytes origin() { return attribute(0x40, 1, {0}); }
inline Bytes as_path() { return attribute(0x40, 2, {2, 1, 0, 0, 0xfd, 0xe9}); }
inline Bytes next_hop() { return attribute(0x40, 3, {10, 0, 0, 1}); }
inline Bytes mandatory() { return join({origin(), as_path(), next_hop()}); }
inline Bytes nlri_10_1() { return {24, 10, 1, 0}; }  // 10.1.0.0/24

}  // namespace blockd::bgp::testing
