#include "agent/ipip_tunnel.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/node_handles.hpp"
#include "ipam/allocator.hpp"
#include "ipam/pool_selection.hpp"
#include "netlink/device.hpp"

namespace blockd::agent {
namespace {

bool ipip_tunnel_pool(const ipam::IPPool& p) {
  const bool tunnel_use = std::find(p.allowed_uses.begin(), p.allowed_uses.end(), "Tunnel") != p.allowed_uses.end();
  return p.ipip_mode != ipam::EncapMode::Never && p.cidr.is_v4() && tunnel_use;
}

}  // namespace

Result<bool> IpipTunnel::ensure(const ClusterView& view, const ipam::Labels& labels) {
  std::vector<ipam::IPPool> ipip_pools;
  for (const auto& p : view.resources->pools) {
    if (ipip_tunnel_pool(p) && ipam::selects(p, labels)) ipip_pools.push_back(p);
  }
  auto in_ipip_pool = [&](const ipam::Address& a) {
    return std::any_of(ipip_pools.begin(), ipip_pools.end(), [&](const ipam::IPPool& p) { return p.cidr.contains(a); });
  };
  if (address_ && in_ipip_pool(*address_)) return false;
  const std::string handle = ipip_handle(node_.name);
  std::optional<ipam::Address> held;
  for (const auto& b : view.blocks) {
    for (const auto& [ordinal, a] : b.allocations()) {
      if (a.handle == handle) held = b.cidr().at(ordinal);
    }
  }
  // Its own allocator: the agent's belongs to the store worker's thread.
  ipam::Allocator allocator(store_);
  // Calico's tunnel address reconciliation: an address outside every IPIP pool that selects the
  // node (its pool deleted, disabled or de-selecting the node) is given back, then replaced.
  if (held && !in_ipip_pool(*held)) {
    ipam::ReleaseOptions options;
    options.pools = &view.resources->pools;
    if (auto r = allocator.release_handle(handle, options); !r) return r.error().within("releasing " + held->str());
    spdlog::info("IPIP: tunnel address {} is in no IPIP pool of this node any more: released", held->str());
    held.reset();
  }
  const bool had = address_.has_value();
  address_.reset();
  if (ipip_pools.empty()) return had;  // none wanted now: the Node loses it
  if (!held) {
    std::vector<std::string> names;
    for (const auto& p : ipip_pools) names.push_back(p.name);
    auto a = allocator.allocate({node_.name, labels, view.resources->pools},
                                {handle, ipam::Family::V4, names, ipam::AddressUse::Tunnel});
    if (!a) return a.error().within("allocating this node's IPIP tunnel address");
    held = a->address;
  }
  address_ = held;
  if (dataplane_.program_kernel) {
    netlink::IpipDeviceConfig dc;
    dc.name = dataplane_.ipip_device;
    dc.uplink = dataplane_.uplink;
    dc.local = node_.address.address;
    dc.address = ipam::InterfaceAddress{*address_, 32};
    if (auto ok = netlink::ensure_ipip_device(dc); !ok) {
      spdlog::warn("IPIP device {}: {} (the tunnel address {} is still this node's)", dc.name, ok.error().message,
                   address_->str());
    }
  }
  spdlog::info("IPIP: tunnel address {} on {}", address_->str(), dataplane_.ipip_device);
  return true;
}

}  // namespace blockd::agent
