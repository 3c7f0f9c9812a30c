// Big-endian byte reading and writing for the BGP wire format (RFC 4271 §4: network order).
// The reader never reads past its span: every take is bounds-checked, so a length field a peer
// lies about cannot walk us out of the message.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace blockd::bgp {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

class WireReader {
 public:
  explicit WireReader(ByteView data) : data_(data) {}

  std::size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  std::size_t position() const { return pos_; }

  // Each returns false (and consumes nothing) when too few octets remain.
  bool u8(std::uint8_t& v) {
    if (remaining() < 1) return false;
    v = data_[pos_++];
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (remaining() < 2) return false;
    v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (remaining() < 4) return false;
    v = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
        (std::uint32_t{data_[pos_ + 2]} << 8) | std::uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return true;
  }
  bool take(std::size_t n, ByteView& out) {
    if (remaining() < n) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  ByteView rest() {
    ByteView r = data_.subspan(pos_);
    pos_ = data_.size();
    return r;
  }

 private:
  ByteView data_;
  std::size_t pos_ = 0;
};

// The 32- or 64-bit Word at `at`, big-endian, in one load (and a byte swap on a little-endian
// host). The caller has checked that sizeof(Word) octets are there.
template <class Word>
Word load_big_endian(const std::uint8_t* at) {
  static_assert(sizeof(Word) == 4 || sizeof(Word) == 8);
  Word v;
  std::memcpy(&v, at, sizeof v);
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(Word) == 4) v = __builtin_bswap32(v);
    else v = __builtin_bswap64(v);
  }
  return v;
}

inline void put_u8(Bytes& out, std::uint8_t v) { out.push_back(v); }
inline void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline void put_u32(Bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline void put_bytes(Bytes& out, ByteView v) { out.insert(out.end(), v.begin(), v.end()); }
// Overwrites a 16-bit length written earlier as a placeholder.
inline void patch_u16(Bytes& out, std::size_t at, std::size_t v) {
  out[at] = static_cast<std::uint8_t>(v >> 8);
  out[at + 1] = static_cast<std::uint8_t>(v);
}

}  // namespace blockd::bgp
