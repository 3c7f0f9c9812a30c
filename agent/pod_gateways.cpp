#include "agent/pod_gateways.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

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

Result<std::vector<ipam::ReleasedAddress>> PodGateways::release_workload(const std::string& handle,
                                                                         const std::vector<ipam::IPPool>& pools) {
  const ipam::ReleaseCompanion gateway{[&](const ipam::IPPool& pool) { return gateway_handle(node_, pool.name); },
                                       [&](const ipam::Allocation& a) { return workload_here(a); }};
  auto r = allocator_.release_handle_with(handle, pools, gateway, options_);
  if (!r) return r.error();
  if (!r->companions_checked) {
    std::vector<ipam::Address> addresses;
    for (const auto& a : r->released) addresses.push_back(a.address);
    release_unused(addresses, pools);
  }
  return std::move(r->released);
}

void PodGateways::release_unused(const std::vector<ipam::Address>& released, const std::vector<ipam::IPPool>& pools) {
  for (const auto& pool : pools) {
    if (std::none_of(released.begin(), released.end(), [&](const ipam::Address& a) { return pool.cidr.contains(a); })) {
      continue;
    }
    // The gateway's handle in the same round trip as the pool's blocks: its release then starts
    // with no read of its own.
    const std::string handle = gateway_handle(node_, pool.name);
    auto read = store_.read_many({{ipam::keys::blocks_within(pool.cidr), true}, {ipam::keys::handle(handle)}});
    if (!read) {
      spdlog::warn("checking the gateway of {}: {}", pool.name, read.error().message);
      continue;
    }
    bool used = false;
    for (const auto& kv : (*read)[0].kvs) {
      auto b = ipam::AllocationBlock::from_json(kv.value);
      if (!b) continue;
      // This node's VTEP address is no workload either: it would keep the gateway forever.
      for (const auto& [_, a] : b->allocations()) used = used || workload_here(a);
    }
    if (used) continue;
    auto& as_read = (*read)[1].kvs;
    auto r = allocator_.release_handle(
        handle, as_read.empty() ? std::nullopt : std::optional<ipam::KeyValue>{std::move(as_read.front())}, options_);
    if (!r) spdlog::warn("releasing the gateway of {}: {}", pool.name, r.error().message);
  }
}

Result<std::size_t> PodGateways::release_unused_in(const ipam::BlockList& blocks, const std::vector<ipam::IPPool>& pools) {
  const std::string prefix = gateway_handle(node_, "");
  std::set<std::string> held;        // gateway handles of this node
  std::set<std::string> used_pools;  // pools a workload of this node has an address in
  for (const auto& b : blocks) {
    for (const auto& [_, a] : b.allocations()) {
      if (a.handle.starts_with(prefix)) held.insert(a.handle);
      if (!workload_here(a)) continue;
      for (const auto& p : pools) {
        if (p.cidr.contains(b.cidr())) used_pools.insert(p.name);
      }
    }
  }
  std::size_t released = 0;
  for (const auto& handle : held) {
    const std::string pool = handle.substr(prefix.size());
    if (used_pools.count(pool)) continue;
    auto r = allocator_.release_handle(handle, options_);
    if (!r) return r.error().within("releasing the unused gateway " + handle);
    released += !r->empty();
  }
  return released;
}

}  // namespace blockd::agent
