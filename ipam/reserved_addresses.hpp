// Addresses a block never hands out on its own: those of IPReservations (Calico skips them in
// autoAssign) and, in IPv6, every /64's Subnet-Router anycast address, the one whose interface
// identifier is all zeros (RFC 4291 section 2.6.1: routers answer it, so a pod must not hold it).
#pragma once

#include <vector>

#include "ipam/net/prefix.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::ipam {

class ReservedAddresses {
 public:
  ReservedAddresses() = default;
  explicit ReservedAddresses(std::vector<Prefix> cidrs) : cidrs_(std::move(cidrs)) {}
  // The reservedCIDRs of every IPReservation.
  static ReservedAddresses of(const std::vector<IPReservation>& reservations);

  bool contains(const Address& a) const;
  // How many addresses of `block` the IPReservations cover (Subnet-Router anycast not counted).
  uint128 reserved_within(const Prefix& block) const;
  const std::vector<Prefix>& cidrs() const { return cidrs_; }

 private:
  std::vector<Prefix> cidrs_;
};

// RFC 4291 2.6.1: the IPv6 address with the low 64 bits clear.
bool is_subnet_router_anycast(const Address& a);

}  // namespace blockd::ipam
