#include "agent/vxlan_tunnel.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "agent/node_handles.hpp"
#include "ipam/allocator.hpp"
#include "ipam/pool_selection.hpp"
#include "netlink/device.hpp"

namespace blockd::agent {
namespace {

// A stable, locally administered MAC from the node name (FNV-1a), when none is configured.
std::string derived_mac(const std::string& node) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : node) h = (h ^ c) * 1099511628211ULL;
  char buf[18];
  std::snprintf(buf, sizeof buf, "02:%02x:%02x:%02x:%02x:%02x", static_cast<unsigned>((h >> 32) & 0xff),
                static_cast<unsigned>((h >> 24) & 0xff), static_cast<unsigned>((h >> 16) & 0xff),
                static_cast<unsigned>((h >> 8) & 0xff), static_cast<unsigned>(h & 0xff));
  return buf;
}

bool vxlan_v4(const ipam::IPPool& p) { return p.vxlan_mode != ipam::EncapMode::Never && p.cidr.is_v4(); }

}  // namespace

Result<ipam::Address> VxlanTunnel::reserve_address(const ClusterView& view, const ipam::Labels& labels) {
  if (dataplane_.vtep_address) return *dataplane_.vtep_address;
  const std::string handle = vtep_handle(node_.name);
  for (const auto& b : view.blocks) {
    for (const auto& [ordinal, a] : b.allocations()) {
      if (a.handle == handle) return b.cidr().at(ordinal);
    }
  }
  std::vector<std::string> vxlan_pools;
  for (const auto& p : view.resources->pools) {
    if (vxlan_v4(p)) vxlan_pools.push_back(p.name);
  }
  // Its own allocator: the agent's belongs to the store worker's thread.
  ipam::Allocator allocator(store_);
  auto a = allocator.allocate({node_.name, labels, view.resources->pools},
                              {handle, ipam::Family::V4, vxlan_pools, ipam::AddressUse::Tunnel});
  if (!a) return a.error().within("allocating this node's VXLAN tunnel address");
  return a->address;
}

Result<bool> VxlanTunnel::ensure(const ClusterView& view, const ipam::Labels& labels) {
  if (ready_) return false;
  bool wanted = dataplane_.vtep_address.has_value();
  for (const auto& p : view.resources->pools) wanted = wanted || (vxlan_v4(p) && ipam::selects(p, labels));
  if (!wanted) return false;
  mac_ = dataplane_.vtep_mac.empty() ? derived_mac(node_.name) : dataplane_.vtep_mac;
  auto address = reserve_address(view, labels);
  if (!address) return address.error();
  address_ = *address;
  auto mac = netlink::Mac::parse(mac_);
  if (!mac) return mac.error().within("dataplane.vtepMAC");
  if (dataplane_.program_kernel) {
    netlink::VxlanDeviceConfig vc;
    vc.name = dataplane_.vxlan_device;
    vc.vni = dataplane_.vxlan_vni;
    vc.port = dataplane_.vxlan_port;
    vc.uplink = dataplane_.uplink;
    vc.local = node_.address.address;
    vc.mac = *mac;
    vc.address = ipam::InterfaceAddress{*address_, 32};
    if (auto ok = netlink::ensure_vxlan_device(vc); !ok) return ok.error().within("VXLAN device " + vc.name);
  }
  ready_ = true;
  spdlog::info("VXLAN: device {} with VTEP {} ({})", dataplane_.vxlan_device, address_->str(), mac_);
  return true;
}

}  // namespace blockd::agent
