#include "ipam/reserved_addresses.hpp"

#include <algorithm>

namespace blockd::ipam {

ReservedAddresses ReservedAddresses::of(const std::vector<IPReservation>& reservations) {
  std::vector<Prefix> cidrs;
  for (const auto& r : reservations) cidrs.insert(cidrs.end(), r.reserved_cidrs.begin(), r.reserved_cidrs.end());
  return ReservedAddresses(std::move(cidrs));
}

bool is_subnet_router_anycast(const Address& a) {
  constexpr uint128 kInterfaceId = (uint128{1} << 64) - 1;
  return !a.is_v4() && (a.value() & kInterfaceId) == 0;
}

bool ReservedAddresses::contains(const Address& a) const {
  return is_subnet_router_anycast(a) ||
         std::any_of(cidrs_.begin(), cidrs_.end(), [&](const Prefix& p) { return p.contains(a); });
}

uint128 ReservedAddresses::reserved_within(const Prefix& range) const {
  // Two prefixes either nest or are disjoint: count the outermost reservations inside the
  // range, each once.
  uint128 n = 0;
  for (std::size_t i = 0; i < cidrs_.size(); ++i) {
    const Prefix& p = cidrs_[i];
    if (p.family() != range.family()) continue;
    if (p.contains(range)) return range.size();
    if (!range.contains(p)) continue;
    bool nested = false;
    for (std::size_t j = 0; j < cidrs_.size() && !nested; ++j) {
      nested = j != i && cidrs_[j].family() == p.family() && cidrs_[j].contains(p) && (cidrs_[j] != p || j < i);
    }
    if (!nested) n += p.size();
  }
  return n;
}

}  // namespace blockd::ipam
