#include "ipam/cluster_listing.hpp"

#include <type_traits>
#include <variant>

#include "ipam/keys.hpp"
#include "ipam/resources/resource_codec.hpp"

namespace blockd::ipam {
void add_resource(ClusterResources& listing, Resource resource) {
  std::visit(
      [&](auto&& res) {
        using T = std::decay_t<decltype(res)>;
        if constexpr (std::is_same_v<T, IPPool>) listing.pools.push_back(std::move(res));
        if constexpr (std::is_same_v<T, Node>) listing.nodes.emplace(res.name, std::move(res));
        if constexpr (std::is_same_v<T, BGPPeer>) listing.bgp_peers.push_back(std::move(res));
        if constexpr (std::is_same_v<T, BGPConfiguration>) listing.bgp_configurations.push_back(std::move(res));
        if constexpr (std::is_same_v<T, BGPFilter>) listing.bgp_filters.push_back(std::move(res));
      },
      std::move(resource));
}

Result<Resource> decode_resource(const KeyValue& kv) {
  auto doc = nlohmann::json::parse(kv.value, nullptr, false);
  auto r = doc.is_discarded() ? Result<Resource>(internal("not JSON")) : resource_from_json(doc);
  if (!r) return r.error().within(kv.key);
  return r;
}

Result<AllocationBlock> decode_block(const KeyValue& kv) {
  auto b = AllocationBlock::from_json(kv.value);
  if (!b) return b.error().within(kv.key);
  return b;
}

ClusterListing decode_listing(const ListResult& all, ListingDepth depth) {
  ClusterListing listing;
  ClusterResources resources;
  listing.revision = all.revision;
  const bool audit = depth == ListingDepth::Audit;
  for (const auto& kv : all.kvs) {
    if (kv.key.starts_with(keys::kBlocks)) {
      auto b = decode_block(kv);
      if (!b) {
        listing.problems.push_back(b.error().message);
        continue;
      }
      listing.blocks.put(kv.key, std::move(*b));
    } else if (audit && kv.key.starts_with(keys::kHandles)) {
      auto h = HandleRecord::from_json(kv.value);
      if (!h) {
        listing.problems.push_back(kv.key + ": " + h.error().message);
        continue;
      }
      listing.handles.push_back(std::move(*h));
    } else if (audit && kv.key.starts_with(keys::kAffinity)) {
      const std::string rest = kv.key.substr(keys::kAffinity.size());
      const auto slash = rest.rfind('/');
      listing.affinities.insert({rest.substr(0, slash), rest.substr(slash + 1)});
    } else if (kv.key.starts_with(keys::kResources)) {
      auto r = decode_resource(kv);
      if (!r) {
        listing.problems.push_back(r.error().message);
        continue;
      }
      add_resource(resources, std::move(*r));
    }
  }
  listing.resources = std::make_shared<const ClusterResources>(std::move(resources));
  return listing;
}

}  // namespace blockd::ipam
