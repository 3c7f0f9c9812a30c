#include "netlink/route.hpp"

#include <algorithm>
#include <cstdio>

namespace blockd::netlink {
namespace {

constexpr std::uint8_t kScopeUniverse = 0;  // RT_SCOPE_UNIVERSE
constexpr std::uint8_t kScopeLink = 253;    // RT_SCOPE_LINK
constexpr std::uint32_t kIpv6DefaultMetric = 1024;  // IP6_RT_PRIO_USER

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool needs_gateway(RouteKind k) {
  return k == RouteKind::Direct || k == RouteKind::Ipip || k == RouteKind::Vxlan;
}
bool needs_device(RouteKind k) {
  return k == RouteKind::Ipip || k == RouteKind::Vxlan || k == RouteKind::Workload;
}

}  // namespace

const char* kind_name(RouteKind k) {
  switch (k) {
    case RouteKind::Blackhole: return "blackhole";
    case RouteKind::Direct: return "direct";
    case RouteKind::Ipip: return "ipip";
    case RouteKind::Vxlan: return "vxlan";
    case RouteKind::Workload: return "workload";
    case RouteKind::Other: return "other";
  }
  return "?";
}

Route Route::blackhole(const Prefix& block) {
  Route r;
  r.kind = RouteKind::Blackhole;
  r.destination = block;
  return r;
}

namespace {

// A route to dst via gateway on device (the three kinds that have one).
Route via(RouteKind kind, const Prefix& dst, const Address& gateway, std::string device, bool onlink) {
  Route r;
  r.kind = kind;
  r.destination = dst;
  r.gateway = gateway;
  r.device = std::move(device);
  r.onlink = onlink;
  return r;
}

}  // namespace

Route Route::direct(const Prefix& dst, const Address& node, std::string device) {
  return via(RouteKind::Direct, dst, node, std::move(device), false);
}

Route Route::multipath(const Prefix& dst, std::vector<Address> gateways) {
  std::sort(gateways.begin(), gateways.end());
  gateways.erase(std::unique(gateways.begin(), gateways.end()), gateways.end());
  if (gateways.size() == 1) return direct(dst, gateways.front());
  Route r;
  r.kind = RouteKind::Direct;
  r.destination = dst;
  r.next_hops = std::move(gateways);
  return r;
}

// Tunnels are onlink: the remote node (or VTEP) is not on the tunnel's subnet (Calico's `onlink`).
Route Route::ipip(const Prefix& dst, const Address& node, std::string device) {
  return via(RouteKind::Ipip, dst, node, std::move(device), true);
}

Route Route::vxlan(const Prefix& dst, const Address& vtep, std::string device) {
  return via(RouteKind::Vxlan, dst, vtep, std::move(device), true);
}

Route Route::workload(const Prefix& host, std::string device) {
  Route r;
  r.kind = RouteKind::Workload;
  r.destination = host;
  r.device = std::move(device);
  return r;
}

std::uint32_t Route::effective_metric() const {
  return (metric == 0 && !destination.is_v4()) ? kIpv6DefaultMetric : metric;
}

std::uint8_t Route::scope() const {
  return kind == RouteKind::Workload ? kScopeLink : kScopeUniverse;
}

Status Route::validate() const {
  // Messages are built only on failure: validation runs on every desired route.
  const auto fail = [&](const std::string& why) { return invalid("route " + destination.str() + ": " + why); };
  const std::string kind_text = kind_name(kind);
  if (kind == RouteKind::Other) return fail("kind 'other' cannot be programmed");
  if (is_multipath()) {
    if (kind != RouteKind::Direct) return fail("only a direct route can have several next hops");
    if (gateway) return fail("a multipath route has its gateways in its next hops alone");
    if (next_hops.size() < 2) return fail("a multipath route needs two next hops or more");
    if (next_hops.size() > kMaxNextHops)
      return fail(std::to_string(next_hops.size()) + " next hops; at most " + std::to_string(kMaxNextHops));
    if (!device.empty() || onlink) return fail("a multipath route names no device and is not onlink");
    if (!std::is_sorted(next_hops.begin(), next_hops.end()) ||
        std::adjacent_find(next_hops.begin(), next_hops.end()) != next_hops.end())
      return fail("next hops must be sorted and unique (Route::multipath)");
    for (const auto& h : next_hops) {
      if (h.family() != destination.family())
        return fail("next hop " + h.str() + " is not " + family_name(destination.family()));
    }
    return {};
  }
  if (needs_gateway(kind) && !gateway) return fail("a " + kind_text + " route needs a gateway");
  if (!needs_gateway(kind) && gateway) return fail("a " + kind_text + " route has no gateway");
  if (gateway && gateway->family() != destination.family())
    return fail("gateway " + gateway->str() + " is not " + family_name(destination.family()));
  if (needs_device(kind) && device.empty()) return fail("a " + kind_text + " route needs a device");
  if (kind == RouteKind::Workload && !destination.is_host())
    return fail("a workload route must be a /32 or /128");
  if (device.size() > 15) return fail("device name '" + device + "' is longer than 15");
  return {};
}

std::string Route::str() const {
  std::string s = is_blackhole() ? "blackhole " + destination.str() : destination.str();
  if (gateway) s += " via " + gateway->str();
  for (const auto& h : next_hops) s += " nexthop via " + h.str();
  if (!device.empty()) s += " dev " + device;
  if (onlink) s += " onlink";
  if (kind == RouteKind::Workload) s += " scope link";
  if (table != kMainTable) s += " table " + std::to_string(table);
  if (protocol != 0) s += " proto " + std::to_string(protocol);
  if (metric != 0) s += " metric " + std::to_string(metric);
  return s;
}

bool satisfies(const Route& actual, const Route& desired) {
  return actual.kind != RouteKind::Other && actual.is_blackhole() == desired.is_blackhole() &&
         actual.gateway == desired.gateway && actual.next_hops == desired.next_hops &&
         actual.onlink == desired.onlink && actual.scope() == desired.scope() &&
         actual.effective_metric() == desired.effective_metric() &&
         actual.table == desired.table && actual.destination == desired.destination &&
         (desired.device.empty() || actual.device == desired.device);
}

Result<Mac> Mac::parse(std::string_view text) {
  std::array<std::uint8_t, 6> b{};
  const auto bad = [&] {
    return invalid("MAC address '" + std::string(text) + "' is not of the form aa:bb:cc:dd:ee:ff");
  };
  if (text.size() != 17) return bad();
  for (std::size_t i = 0; i < 6; ++i) {
    const int hi = hex_digit(text[i * 3]);
    const int lo = hex_digit(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) return bad();
    if (i < 5 && text[i * 3 + 2] != ':') return bad();
    b[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return Mac(b);
}

std::string Mac::str() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1], bytes_[2],
                bytes_[3], bytes_[4], bytes_[5]);
  return buf;
}

Status Neighbour::validate() const {
  if (device.empty()) return invalid("neighbour " + address.str() + ": needs a device");
  if (mac == Mac()) return invalid("neighbour " + address.str() + ": MAC 00:00:00:00:00:00");
  return {};
}

std::string Neighbour::str() const {
  return address.str() + " lladdr " + mac.str() + " dev " + device + " permanent";
}

Status FdbEntry::validate() const {
  if (device.empty()) return invalid("fdb entry " + mac.str() + ": needs a device");
  if (mac == Mac()) return invalid("fdb entry: MAC 00:00:00:00:00:00 is the default entry");
  return {};
}

std::string FdbEntry::str() const {
  return mac.str() + " dev " + device + " dst " + destination.str() + " self permanent";
}

}  // namespace blockd::netlink
