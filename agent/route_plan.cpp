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
      : view_(view), self_(self), learned_(learned) {}

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
    for (const auto& pool : view_.pools) {
      if (pool.cidr.contains(p)) return &pool;
    }
    return nullptr;
  }

  void note(std::string s) { plan_.notes.push_back(std::move(s)); }

  void route_to(const std::string& node_name, const Prefix& dst) {
    auto it = view_.nodes.find(node_name);
    if (it == view_.nodes.end()) {
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
        // Another subnet and no tunnel: the ToR knows the way; use what it told us. Only a
        // next hop on this node's subnet can be a kernel gateway: a route reflector (RFC 4456)
        // or an iBGP mesh passes on the originating node's own address, which the node's
        // default route (its rack's gateway) reaches anyway.
        const LearnedRoute* best = nullptr;
        const LearnedRoute* off_subnet = nullptr;
        for (const auto& r : learned_) {
          if (!r.prefix.contains(dst)) continue;
          auto& slot = local->subnet().contains(Prefix::host(r.next_hop)) ? best : off_subnet;
          if (!slot || r.prefix.length() > slot->prefix.length()) slot = &r;
        }
        if (best) {
          plan_.kernel.routes.push_back(netlink::Route::direct(dst, best->next_hop));
        } else if (off_subnet) {
          note(dst.str() + ": learned via " + off_subnet->next_hop.str() +
               ", not on this node's subnet; left to the default route");
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

RoutePlan plan_routes(const ClusterView& view, const ThisNode& self, const std::vector<LearnedRoute>& learned) {
  return Planner(view, self, learned).run();
}

std::vector<bgp::AdvertisedRoute> to_advertised(const RoutePlan& plan) {
  std::vector<bgp::AdvertisedRoute> out;
  out.reserve(plan.advertise.size());
  for (const auto& a : plan.advertise) out.push_back({a.prefix, std::nullopt, {}});
  return out;
}

}  // namespace blockd::agent
