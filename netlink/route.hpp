// Value types of the kernel state blockd programs: routes, neighbour entries, FDB entries.
// Pure values, no I/O; the Kernel interface (kernel.hpp) moves them to and from the kernel.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipam/net/prefix.hpp"
#include "ipam/net/result.hpp"

namespace blockd::netlink {

using ipam::Address;
using ipam::Family;
using ipam::Prefix;

inline constexpr std::uint8_t kDefaultRouteProtocol = 200;
inline constexpr std::uint32_t kMainTable = 254;  // RT_TABLE_MAIN
// Next hops of one multipath route: a bound on what the BGP peers can make blockd install (a
// rack has two ToRs), keeping a route message far inside one page.
inline constexpr std::size_t kMaxNextHops = 32;

// What a route is for (ARCHITECTURE.md, Routes). The kernel does not store the kind: a dumped route's
// kind is inferred from its shape (type, gateway, onlink, device kind).
enum class RouteKind : std::uint8_t {
  Blackhole,  // this node's own affine block: drop what no workload claims
  Direct,     // remote block via the remote node address (same subnet), or via the next hops
              // learned over BGP: one, or several as one multipath route (ECMP)
  Ipip,       // remote block via the remote node address on the IPIP device, onlink
  Vxlan,      // remote block via the remote VTEP address on the VXLAN device, onlink
  Workload,   // /32 (/128) to a local workload interface, scope link
  Other,      // a shape blockd never writes (seen only in dumps)
};
const char* kind_name(RouteKind k);

struct Route {
  RouteKind kind = RouteKind::Blackhole;
  Prefix destination;
  std::optional<Address> gateway;
  // Two or more: one multipath route (RTA_MULTIPATH), each next hop on the device the kernel
  // resolves for it; `gateway` is then empty. Kept sorted, so equal sets compare equal.
  std::vector<Address> next_hops;
  std::string device;  // empty: any device (the kernel picks it; blackhole, direct)
  bool onlink = false;
  std::uint8_t protocol = 0;  // 0 in desired routes: the programmer sets its own
  std::uint32_t table = kMainTable;
  std::uint32_t metric = 0;  // 0: the kernel default (IPv6 stores 1024)

  static Route blackhole(const Prefix& block);
  static Route direct(const Prefix& dst, const Address& node, std::string device = {});
  // Via every address of `gateways` (ECMP over equal BGP paths, e.g. two ToRs): a multipath route
  // for two or more, a plain direct route for one. Duplicates are dropped.
  static Route multipath(const Prefix& dst, std::vector<Address> gateways);
  static Route ipip(const Prefix& dst, const Address& node, std::string device);
  static Route vxlan(const Prefix& dst, const Address& vtep, std::string device);
  static Route workload(const Prefix& host, std::string device);

  // The metric the kernel stores (IPv6 turns 0 into 1024, IP6_RT_PRIO_USER).
  std::uint32_t effective_metric() const;
  // RT_SCOPE_LINK for workload routes, RT_SCOPE_UNIVERSE otherwise.
  std::uint8_t scope() const;
  bool is_blackhole() const { return kind == RouteKind::Blackhole; }
  bool is_multipath() const { return !next_hops.empty(); }

  // A route blockd can write: gateway and device present where the kind needs them, one family.
  Status validate() const;
  // `ip route` style: "10.0.0.0/26 via 10.0.1.1 dev vxlan.blockd onlink proto 200".
  std::string str() const;

  friend bool operator==(const Route&, const Route&) = default;
};

// Routes are identified in the kernel by (table, destination, metric); blockd keeps one route
// per (table, destination).
struct RouteKey {
  std::uint32_t table = kMainTable;
  Prefix destination;
  friend bool operator==(const RouteKey&, const RouteKey&) = default;
  friend auto operator<=>(const RouteKey&, const RouteKey&) = default;
};
inline RouteKey key_of(const Route& r) { return {r.table, r.destination}; }

// True when an actual (dumped) route already is what the desired one asks for: same type,
// gateway (or set of multipath next hops), onlink, scope and metric, and the same device when the desired route names one.
bool satisfies(const Route& actual, const Route& desired);

class Mac {
 public:
  Mac() = default;
  explicit Mac(std::array<std::uint8_t, 6> b) : bytes_(b) {}
  // "aa:bb:cc:dd:ee:ff" (case-insensitive).
  static Result<Mac> parse(std::string_view text);
  const std::array<std::uint8_t, 6>& bytes() const { return bytes_; }
  std::string str() const;
  friend bool operator==(const Mac&, const Mac&) = default;
  friend auto operator<=>(const Mac&, const Mac&) = default;

 private:
  std::array<std::uint8_t, 6> bytes_{};
};

// A permanent neighbour entry: the remote VTEP address resolves to the remote VTEP MAC on the
// VXLAN device (Calico installs the same, so no ARP crosses the overlay).
struct Neighbour {
  Address address;
  Mac mac;
  std::string device;
  Status validate() const;
  std::string str() const;
  friend bool operator==(const Neighbour&, const Neighbour&) = default;
};

// A VXLAN forwarding entry: frames for the remote VTEP MAC are sent to the remote node's
// underlay address (`bridge fdb add MAC dev vxlan dst NODE self permanent`).
struct FdbEntry {
  Mac mac;
  Address destination;
  std::string device;
  Status validate() const;
  std::string str() const;
  friend bool operator==(const FdbEntry&, const FdbEntry&) = default;
};

}  // namespace blockd::netlink

template <>
struct std::hash<blockd::netlink::RouteKey> {
  std::size_t operator()(const blockd::netlink::RouteKey& k) const noexcept {
    return std::hash<blockd::ipam::Prefix>{}(k.destination) * 31 + k.table;
  }
};
