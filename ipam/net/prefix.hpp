// IPv4/IPv6 address and prefix value types, used by every module (bgp and netlink include
// only this header and result.hpp from ipam).
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <iterator>
#include <span>
#include <string>
#include <string_view>

#include "ipam/net/result.hpp"

namespace blockd::ipam {

__extension__ typedef unsigned __int128 uint128;

enum class Family : std::uint8_t { V4 = 4, V6 = 6 };

inline const char* family_name(Family f) { return f == Family::V4 ? "IPv4" : "IPv6"; }
inline unsigned family_bits(Family f) { return f == Family::V4 ? 32 : 128; }

class Address {
 public:
  Address() = default;  // 0.0.0.0

  static Result<Address> parse(std::string_view text);
  static Address v4(std::uint32_t host_order);
  // From network-order bytes: 4 for IPv4, 16 for IPv6.
  static Address from_bytes(Family family, std::span<const std::uint8_t> bytes);
  // From an integer value in the family's range (low bits used).
  static Address from_value(Family family, uint128 value);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::V4; }
  unsigned bits() const { return family_bits(family_); }
  // Network-order bytes: 4 for IPv4, 16 for IPv6.
  std::span<const std::uint8_t> bytes() const { return {bytes_.data(), is_v4() ? 4u : 16u}; }
  uint128 value() const;
  std::uint32_t v4_value() const { return static_cast<std::uint32_t>(value()); }
  std::string str() const;

  friend bool operator==(const Address&, const Address&) = default;
  friend std::strong_ordering operator<=>(const Address& a, const Address& b);

 private:
  friend class Prefix;
  // Zeroes every bit after the first `length` (length <= bits()), on the bytes themselves: no
  // 128-bit arithmetic, so a prefix from the wire costs a few byte operations.
  void clear_host_bits(unsigned length) {
    const unsigned whole = length / 8;
    if (const unsigned part = length % 8; part != 0) bytes_[whole] &= static_cast<std::uint8_t>(0xff00u >> part);
    for (unsigned i = (length + 7) / 8; i < bytes_.size(); ++i) bytes_[i] = 0;
  }
  // Writes v big-endian at bytes_[at] (the compiler makes this one byte-swapped store).
  template <class Word>
  void put_word(std::size_t at, Word v) {
    for (std::size_t i = 0; i < sizeof(Word); ++i) {
      bytes_[at + i] = static_cast<std::uint8_t>(v >> (8 * (sizeof(Word) - 1 - i)));
    }
  }
  std::array<std::uint8_t, 16> bytes_{};
  Family family_ = Family::V4;
};

// A network prefix: the address always has its host bits clear.
class Prefix {
 public:
  Prefix() = default;  // 0.0.0.0/0

  // Strict: "10.0.0.0/24"; host bits set is an error naming the network meant.
  // A bare address parses as a host route (/32 or /128).
  static Result<Prefix> parse(std::string_view text);
  // Clears host bits (a length beyond the family's is its full length).
  static Prefix make(const Address& address, unsigned length) {
    Prefix p;
    p.address_ = address;
    p.length_ = static_cast<std::uint8_t>(std::min(length, address.bits()));
    p.address_.clear_host_bits(p.length_);
    return p;
  }
  // From the address as numbers, host bits cleared with one mask per word (a length beyond the
  // family's is its full length): Prefix(Prefix::V4{0x0a000000}, 24) is 10.0.0.0/24. The BGP
  // decoder builds each NLRI prefix this way from one load of the wire octets; constructors,
  // not factories, so that out.emplace_back(...) builds it in place.
  struct V4 {
    std::uint32_t value;
  };
  struct V6 {
    std::uint64_t high, low;
  };
  Prefix(V4 address, unsigned length) : length_(static_cast<std::uint8_t>(std::min(length, 32u))) {
    address_.put_word(0, address.value & network_mask<std::uint32_t>(length_));
  }
  Prefix(V6 address, unsigned length) : length_(static_cast<std::uint8_t>(std::min(length, 128u))) {
    address_.family_ = Family::V6;
    address_.put_word(0, address.high & network_mask<std::uint64_t>(std::min(length_, std::uint8_t{64})));
    address_.put_word(8, address.low & network_mask<std::uint64_t>(length_ > 64 ? length_ - 64u : 0u));
  }
  static Prefix host(const Address& address) { return make(address, address.bits()); }

  const Address& address() const { return address_; }
  unsigned length() const { return length_; }
  Family family() const { return address_.family(); }
  bool is_v4() const { return address_.is_v4(); }
  bool is_host() const { return length_ == address_.bits(); }
  std::string str() const;

  bool contains(const Address& a) const;
  bool contains(const Prefix& p) const;
  bool overlaps(const Prefix& p) const;

  // Number of addresses; saturates for an IPv6 /0 (2^128 does not fit).
  uint128 size() const;
  Address first() const { return address_; }
  Address last() const;
  // The address at ordinal n (0-based) inside this prefix; n must be < size().
  Address at(uint128 n) const;
  // Ordinal of an address inside this prefix; the address must be contained.
  uint128 ordinal(const Address& a) const;

  // The sub-prefixes of length block_len in address order, computed lazily (an IPv6 /64 has
  // 2^58 /122 blocks).
  class BlockRange;
  BlockRange blocks(unsigned block_len) const;

  friend bool operator==(const Prefix&, const Prefix&) = default;
  friend std::strong_ordering operator<=>(const Prefix& a, const Prefix& b);

 private:
  // The first `length` bits of a Word set, the rest clear (length <= the Word's bits). A shift
  // by a word's full width is undefined: a 32-bit mask comes from a 64-bit shift, without a
  // branch; a 64-bit one tests for length 0.
  template <class Word>
  static Word network_mask(unsigned length) {
    if constexpr (sizeof(Word) == 4) {
      return static_cast<Word>(~(std::uint64_t{0xffffffffu} >> length));
    } else {
      return length == 0 ? Word{0} : static_cast<Word>(~Word{0} << (64 - length));
    }
  }
  Address address_;
  std::uint8_t length_ = 0;
};

class Prefix::BlockRange {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Prefix;
    using difference_type = std::ptrdiff_t;
    iterator(const BlockRange* r, uint128 i) : r_(r), i_(i) {}
    Prefix operator*() const { return r_->at(i_); }
    iterator& operator++() { ++i_; return *this; }
    bool operator==(const iterator& o) const { return i_ == o.i_; }
   private:
    const BlockRange* r_;
    uint128 i_;
  };
  BlockRange(Prefix parent, unsigned block_len);
  uint128 count() const { return count_; }
  Prefix at(uint128 i) const;
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, count_}; }

 private:
  Prefix parent_;
  unsigned block_len_;
  uint128 count_;
};

// An interface address with its subnet length, as in a Node's `ipv4Address: 10.0.0.10/24`.
struct InterfaceAddress {
  Address address;
  unsigned length = 0;

  static Result<InterfaceAddress> parse(std::string_view text);
  Prefix subnet() const { return Prefix::make(address, length); }
  std::string str() const { return address.str() + "/" + std::to_string(length); }
  friend bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};

std::string to_string(uint128 v);

}  // namespace blockd::ipam

template <>
struct std::hash<blockd::ipam::Address> {
  std::size_t operator()(const blockd::ipam::Address& a) const noexcept;
};
template <>
struct std::hash<blockd::ipam::Prefix> {
  std::size_t operator()(const blockd::ipam::Prefix& p) const noexcept;
};
