#include "ipam/net/prefix.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace blockd::ipam {
namespace {

uint128 mask_of(Family f, unsigned length) {
  const unsigned bits = family_bits(f);
  if (length == 0) return 0;
  const uint128 all = bits == 128 ? ~uint128{0} : ((uint128{1} << bits) - 1);
  return all & ~((uint128{1} << (bits - length)) - 1) & all;
}

uint128 host_mask(Family f, unsigned length) {
  const unsigned bits = family_bits(f);
  if (length >= bits) return 0;
  const unsigned host = bits - length;
  return host == 128 ? ~uint128{0} : ((uint128{1} << host) - 1);
}

// The input in quotes, to start an error message. Messages are built by appending to it:
// `"\"" + std::string(text)` inserts the literal in front of a temporary, which GCC 12 at -O3
// wrongly reports as an overlapping memcpy (-Wrestrict, GCC bug 105329).
std::string quoted(std::string_view text) {
  std::string q;
  q.reserve(text.size() + 2);
  q.append(1, '"').append(text).append(1, '"');
  return q;
}

Result<unsigned> parse_length(std::string_view text, Family f, std::string_view whole) {
  unsigned len = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), len);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) {
    return invalid(quoted(whole) + ": prefix length " + quoted(text) + " is not a number");
  }
  if (len > family_bits(f)) {
    return invalid(quoted(whole) + ": prefix length " + std::to_string(len) + " exceeds " +
                   std::to_string(family_bits(f)) + " for " + family_name(f));
  }
  return len;
}

}  // namespace

std::string to_string(uint128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v != 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

Result<Address> Address::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return invalid(quoted(text) + " is not an IP address");
  const std::string s(text);
  Address a;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) != 1) return invalid(quoted(s) + " is not an IP address");
    a.family_ = Family::V4;
  } else {
    if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) != 1) return invalid(quoted(s) + " is not an IP address");
    a.family_ = Family::V6;
  }
  return a;
}

Address Address::v4(std::uint32_t host_order) { return from_value(Family::V4, host_order); }

Address Address::from_bytes(Family family, std::span<const std::uint8_t> bytes) {
  Address a;
  a.family_ = family;
  std::copy_n(bytes.begin(), std::min<std::size_t>(bytes.size(), family == Family::V4 ? 4 : 16),
              a.bytes_.begin());
  return a;
}

Address Address::from_value(Family family, uint128 value) {
  Address a;
  a.family_ = family;
  const int n = family == Family::V4 ? 4 : 16;
  for (int i = n - 1; i >= 0; --i) {
    a.bytes_[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value & 0xff);
    value >>= 8;
  }
  return a;
}

uint128 Address::value() const {
  uint128 v = 0;
  for (auto b : bytes()) v = (v << 8) | b;
  return v;
}

std::string Address::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

std::strong_ordering operator<=>(const Address& a, const Address& b) {
  if (a.family_ != b.family_) return a.family_ <=> b.family_;
  return a.bytes_ <=> b.bytes_;
}

Result<Prefix> Prefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto addr = Address::parse(text.substr(0, slash));
  if (!addr) return invalid(quoted(text) + " is not a valid CIDR");
  if (slash == std::string_view::npos) return Prefix::host(*addr);
  auto len = parse_length(text.substr(slash + 1), addr->family(), text);
  if (!len) return len.error();
  Prefix p = make(*addr, *len);
  if (p.address_ != *addr) {
    return invalid(quoted(text) + " has host bits set (did you mean " + p.str() + "?)");
  }
  return p;
}

std::string Prefix::str() const { return address_.str() + "/" + std::to_string(length_); }

bool Prefix::contains(const Address& a) const {
  return a.family() == family() &&
         (a.value() & mask_of(family(), length_)) == address_.value();
}

bool Prefix::contains(const Prefix& p) const {
  return p.family() == family() && p.length_ >= length_ && contains(p.address_);
}

bool Prefix::overlaps(const Prefix& p) const { return contains(p) || p.contains(*this); }

uint128 Prefix::size() const {
  const unsigned host = address_.bits() - length_;
  return host >= 128 ? ~uint128{0} : (uint128{1} << host);
}

Address Prefix::last() const {
  return Address::from_value(family(), address_.value() | host_mask(family(), length_));
}

Address Prefix::at(uint128 n) const {
  return Address::from_value(family(), address_.value() + (n & host_mask(family(), length_)));
}

uint128 Prefix::ordinal(const Address& a) const { return a.value() - address_.value(); }

Prefix::BlockRange Prefix::blocks(unsigned block_len) const { return BlockRange(*this, block_len); }

std::strong_ordering operator<=>(const Prefix& a, const Prefix& b) {
  if (auto c = a.address_ <=> b.address_; c != 0) return c;
  return a.length_ <=> b.length_;
}

Prefix::BlockRange::BlockRange(Prefix parent, unsigned block_len)
    : parent_(parent), block_len_(std::min(block_len, parent.address().bits())) {
  if (block_len_ < parent_.length()) {
    count_ = 0;
  } else {
    const unsigned diff = block_len_ - parent_.length();
    count_ = diff >= 128 ? ~uint128{0} : (uint128{1} << diff);
  }
}

Prefix Prefix::BlockRange::at(uint128 i) const {
  const unsigned shift = parent_.address().bits() - block_len_;
  const uint128 offset = shift >= 128 ? 0 : (i << shift);
  return Prefix::make(Address::from_value(parent_.family(), parent_.address().value() + offset),
                      block_len_);
}

Result<InterfaceAddress> InterfaceAddress::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return invalid(quoted(text) + " needs a prefix length (address/length, e.g. 10.0.0.10/24)");
  }
  auto addr = Address::parse(text.substr(0, slash));
  if (!addr) return addr.error();
  auto len = parse_length(text.substr(slash + 1), addr->family(), text);
  if (!len) return len.error();
  return InterfaceAddress{*addr, *len};
}

}  // namespace blockd::ipam

std::size_t std::hash<blockd::ipam::Address>::operator()(const blockd::ipam::Address& a) const noexcept {
  std::size_t h = static_cast<std::size_t>(a.family());
  for (auto b : a.bytes()) h = h * 131 + b;
  return h;
}

std::size_t std::hash<blockd::ipam::Prefix>::operator()(const blockd::ipam::Prefix& p) const noexcept {
  return std::hash<blockd::ipam::Address>{}(p.address()) * 31 + p.length();
}
