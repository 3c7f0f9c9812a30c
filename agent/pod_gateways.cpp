#include "agent/pod_gateways.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/node_handles.hpp"
#include "ipam/keys.hpp"

namespace blockd::agent {

Result<ipam::Address> PodGateways::gateway(const ipam::IPPool& pool, const ipam::AllocationContext& ctx) {
  const std::string handle = gateway_handle(node_, pool.name);
  auto held = allocator_.addresses_of(handle);
  if (!held) return held.error();
  if (!held->empty()) return held->front();
  auto a = allocator_.allocate(ctx, {handle, pool.cidr.family(), {pool.name}});
  if (!a) return a.error().within("reserving the pods' gateway in " + pool.name);
  return a->address;
}

void PodGateways::release_unused(const std::vector<ipam::Address>& released, const std::vector<ipam::IPPool>& pools) {
  for (const auto& pool : pools) {
    if (std::none_of(released.begin(), released.end(), [&](const ipam::Address& a) { return pool.cidr.contains(a); })) {
      continue;
    }
    auto blocks = store_.list(ipam::keys::blocks_within(pool.cidr));
    if (!blocks) {
      spdlog::warn("checking the gateway of {}: {}", pool.name, blocks.error().message);
      continue;
    }
    bool used = false;
    for (const auto& kv : blocks->kvs) {
      auto b = ipam::AllocationBlock::from_json(kv.value);
      if (!b) continue;
      // This node's VTEP address is no workload either: it would keep the gateway forever.
      for (const auto& [_, a] : b->allocations()) used = used || (a.node == node_ && !is_node_own(a.handle, node_));
    }
    if (used) continue;
    auto r = allocator_.release_handle(gateway_handle(node_, pool.name), options_);
    if (!r) spdlog::warn("releasing the gateway of {}: {}", pool.name, r.error().message);
  }
}

}  // namespace blockd::agent
