#include "agent/route_plan.hpp"

#include <algorithm>
#include <set>

#include "agent/node_handles.hpp"
#include "netlink/cross_subnet.hpp"

namespace blockd::agent {
namespace {

using ipam::Address;
using ipam::Prefix;

class Planner {
 public:
  Planner(const ClusterView& view, const ThisNode& self, const std::vector<LearnedRoute>& learned)
      : view_(view), self_(self), learned_(learned) {
    for (const auto& [name, n] : view_.resources->nodes) {
      if (n.ipv4_address) node_addresses_.insert(n.ipv4_address->address);
      if (n.ipv6_address) node_addresses_.insert(n.ipv6_address->address);
    }
  }

  RoutePlan run() {
    std::vector<Prefix> own, own_unexported;
    for (const auto& block : view_.blocks) {
      const bool mine = block.affinity() == self_.name;
      // Calico's disableBGPExport: routed in the kernel, never advertised.
      const ipam::IPPool* pool = pool_of(block.cidr());
      const bool exported = pool == nullptr || !pool->disable_bgp_export;
      if (mine) {
        (exported ? own : own_unexported).push_back(block.cidr());
      } else if (!block.affinity().empty()) {
        route_to(block.affinity(), block.cidr());
      }
      for (const auto& [ordinal, a] : block.allocations()) {
        const Prefix host = Prefix::host(block.cidr().at(ordinal));
        if (a.node == self_.name) {
          if (!is_node_handle(a.handle)) ++plan_.local_workloads;
          if (!mine && exported) plan_.advertise.push_back({host, Advertisement::Kind::Borrowed});
        } else if (a.node != block.affinity()) {
          route_to(a.node, host);  // borrowed by another node: more specific than the block
        }
      }
    }
    for (const auto& aggregate : merge_siblings(own)) {
      plan_.advertise.push_back({aggregate, Advertisement::Kind::Block});
      plan_.kernel.routes.push_back(netlink::Route::blackhole(aggregate));
    }
    for (const auto& aggregate : merge_siblings(own_unexported)) {
      plan_.kernel.routes.push_back(netlink::Route::blackhole(aggregate));
    }
    std::sort(plan_.advertise.begin(), plan_.advertise.end(),
              [](const Advertisement& a, const Advertisement& b) { return a.prefix < b.prefix; });
    return std::move(plan_);
  }

 private:
  const ipam::IPPool* pool_of(const Prefix& p) const {
    for (const auto& pool : view_.resources->pools) {
      if (pool.cidr.contains(p)) return &pool;
    }
    return nullptr;
  }

  void note(std::string s) { plan_.notes.push_back(std::move(s)); }

  // Whether the kernel can use a learned next hop as a gateway: one on this node's subnet, or
  // a router that is no node (the ToR of a second uplink). A route reflector (RFC 4456) or an
  // iBGP mesh passes on the originating node's own address; off this node's subnet the
  // default route (the rack's gateway) reaches that node anyway.
  bool usable_gateway(const Address& hop, const ipam::InterfaceAddress& local) const {
    return local.subnet().contains(Prefix::host(hop)) || !node_addresses_.contains(hop);
  }

  void route_to(const std::string& node_name, const Prefix& dst) {
    auto it = view_.resources->nodes.find(node_name);
    if (it == view_.resources->nodes.end()) {
      note(dst.str() + ": node " + node_name + " does not exist; not routed");
      return;
    }
    const ipam::Node& node = it->second;
    const bool v4 = dst.is_v4();
    const auto& remote = v4 ? node.ipv4_address : node.ipv6_address;
    const auto& local = v4 ? std::optional<ipam::InterfaceAddress>(self_.address) : self_.address_v6;
    if (!remote || !local) {
      note(dst.str() + ": " + (remote ? "this node" : "node " + node_name) + " has no " + (v4 ? "IPv4" : "IPv6") +
           " address; not routed");
      return;
    }
    const ipam::IPPool* pool = pool_of(dst);
    netlink::PoolEncapsulation encap;
    if (pool) encap = {pool->ipip_mode, pool->vxlan_mode};
    switch (netlink::decide_path(encap, *local, remote->address)) {
      case netlink::RoutePath::Direct:
        plan_.kernel.routes.push_back(netlink::Route::direct(dst, remote->address));
        return;
      case netlink::RoutePath::Ipip:
        if (!v4) {
          note(dst.str() + ": IPIP carries IPv4 only; not routed");
          return;
        }
        plan_.kernel.routes.push_back(netlink::Route::ipip(dst, remote->address, self_.ipip_device));
        return;
      case netlink::RoutePath::Vxlan: {
        if (!self_.has_vxlan_device) {
          note(dst.str() + ": this node has no VXLAN device yet (no VXLAN pool selects it); not routed");
          return;
        }
        const auto& vtep = v4 ? node.ipv4_vxlan_tunnel_addr : node.ipv6_vxlan_tunnel_addr;
        const std::string& mac_text = v4 ? node.vxlan_tunnel_mac : node.vxlan_tunnel_mac_v6;
        auto mac = netlink::Mac::parse(mac_text);
        if (!vtep || !mac) {
          note(dst.str() + ": node " + node_name + " has published no VXLAN tunnel address/MAC; not routed");
          return;
        }
        plan_.kernel.routes.push_back(netlink::Route::vxlan(dst, *vtep, self_.vxlan_device));
        if (vteps_.insert(vtep->str()).second) {
          plan_.kernel.neighbours.push_back({*vtep, *mac, self_.vxlan_device});
          plan_.kernel.fdb.push_back({*mac, remote->address, self_.vxlan_device});
        }
        return;
      }
      case netlink::RoutePath::Upstream: {
        // Another subnet and no tunnel: the ToR knows the way; use what it told us, through
        // every next hop of the best rank (ECMP over two ToRs).
        std::vector<LearnedRoute> usable;
        const LearnedRoute* unusable = nullptr;
        for (const auto& r : learned_) {
          if (!r.prefix.contains(dst)) continue;
          if (usable_gateway(r.next_hop, *local)) {
            usable.push_back(r);
          } else if (!unusable || r.prefix.length() > unusable->prefix.length()) {
            unusable = &r;
          }
        }
        auto next_hops = equal_cost_next_hops(usable, dst);
        if (next_hops.size() > netlink::kMaxNextHops) {
          note(dst.str() + ": " + std::to_string(next_hops.size()) + " equal-cost next hops; the first " +
               std::to_string(netlink::kMaxNextHops) + " used");
          next_hops.resize(netlink::kMaxNextHops);
        }
        if (!next_hops.empty()) {
          plan_.kernel.routes.push_back(netlink::Route::multipath(dst, std::move(next_hops)));
        } else if (unusable) {
          note(dst.str() + ": learned via " + unusable->next_hop.str() +
               ", another node not on this node's subnet; left to the default route");
        } else {
          note(dst.str() + ": node " + node_name + " is in another subnet and no BGP peer sent a route for it yet");
        }
        return;
      }
    }
  }

  const ClusterView& view_;
  const ThisNode& self_;
  const std::vector<LearnedRoute>& learned_;
  RoutePlan plan_;
  std::set<std::string> vteps_;
  std::set<Address> node_addresses_;  // every Node's addresses, for usable_gateway
};

}  // namespace

std::vector<Prefix> merge_siblings(std::vector<Prefix> blocks) {
  std::set<Prefix> set(blocks.begin(), blocks.end());
  bool merged = true;
  while (merged) {
    merged = false;
    for (const auto& p : set) {
      if (p.length() == 0) continue;
      const Prefix parent = Prefix::make(p.address(), p.length() - 1);
      if (parent.address() != p.address()) continue;  // p is the upper half: its lower twin decides
      const Prefix twin = Prefix::make(parent.at(parent.size() / 2), p.length());
      if (set.count(twin)) {
        set.erase(twin);
        set.erase(p);
        set.insert(parent);
        merged = true;
        break;
      }
    }
  }
  return {set.begin(), set.end()};
}

std::vector<Address> equal_cost_next_hops(const std::vector<LearnedRoute>& learned, const Prefix& dst) {
  std::vector<const LearnedRoute*> best;
  for (const auto& r : learned) {
    if (!r.prefix.contains(dst) || r.next_hop.family() != dst.family()) continue;
    if (!best.empty()) {
      const LearnedRoute& b = *best.front();
      if (r.prefix.length() < b.prefix.length()) continue;
      if (r.prefix.length() == b.prefix.length()) {
        const auto c = bgp::compare(r.rank, b.rank);
        if (c > 0) continue;
        if (c == 0) {
          best.push_back(&r);
          continue;
        }
      }
    }
    best.assign(1, &r);  // a longer prefix, or a better path of the same prefix
  }
  std::vector<Address> hops;
  for (const auto* r : best) hops.push_back(r->next_hop);
  std::sort(hops.begin(), hops.end());
  hops.erase(std::unique(hops.begin(), hops.end()), hops.end());
  return hops;
}

RoutePlan plan_routes(const ClusterView& view, const ThisNode& self, const std::vector<LearnedRoute>& learned) {
  return Planner(view, self, learned).run();
}

std::vector<bgp::AdvertisedRoute> to_advertised(const RoutePlan& plan) {
  std::vector<bgp::AdvertisedRoute> out;
  out.reserve(plan.advertise.size());
  for (const auto& a : plan.advertise) {
    bgp::AdvertisedRoute r{a.prefix, std::nullopt, a.communities.standard, {}, a.interface};
    for (const auto& [global, local1, local2] : a.communities.large) r.large_communities.push_back({global, local1, local2});
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace blockd::agent
