// One listing of everything under /blockd/v1/, decoded: the agent's view of the cluster
// (agent/cluster_view.hpp) and `ipam check` (ipam_check.hpp) both read the store through it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ipam/block.hpp"
#include "ipam/block_list.hpp"
#include "ipam/resources/resources.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::ipam {

// The resources under /blockd/v1/resources/, decoded.
struct ClusterResources {
  std::vector<IPPool> pools;
  std::map<std::string, Node> nodes;
  std::vector<BGPPeer> bgp_peers;
  std::vector<BGPConfiguration> bgp_configurations;
  std::vector<BGPFilter> bgp_filters;
};

// Resources and blocks are shared, immutable pieces: a view kept current change by change
// (agent/cluster_view.hpp) shares the resources until one of them changes and every block but
// the ones that changed (block_list.hpp), so a view costs what changed, not the whole cluster.
struct ClusterListing {
  std::shared_ptr<const ClusterResources> resources = std::make_shared<const ClusterResources>();
  BlockList blocks;
  std::vector<HandleRecord> handles;                          // ListingDepth::Audit only
  std::set<std::pair<std::string, std::string>> affinities;   // (node, block id); Audit only
  std::int64_t revision = 0;
  std::vector<std::string> problems;  // records that could not be read (named, skipped)
};

enum class ListingDepth {
  Routing,  // resources and blocks: what the agent routes and peers from
  Audit,    // also the handles and the affinity index, for `ipam check`
};

ClusterListing decode_listing(const ListResult& listing, ListingDepth depth = ListingDepth::Routing);

// decode_listing's steps for one record, for a listing kept current change by change (the
// agent's view): decode it, then add it where its kind goes.
Result<Resource> decode_resource(const KeyValue& kv);
void add_resource(ClusterResources& resources, Resource resource);
Result<AllocationBlock> decode_block(const KeyValue& kv);

}  // namespace blockd::ipam
