#include "ipam/ipam_check.hpp"

#include <map>
#include <set>

#include "ipam/block.hpp"
#include "ipam/cluster_listing.hpp"
#include "ipam/keys.hpp"
#include "ipam/pool_selection.hpp"

namespace blockd::ipam {
namespace {

// Per handle, per block: how many addresses the blocks hold.
using Held = std::map<std::string, std::map<Prefix, std::uint32_t>>;

// Blocks: no overlap, affinity to an existing node and in its index, inside a pool, and every
// allocation's handle exists. Returns what the blocks hold per handle.
Held check_blocks(const std::map<Prefix, AllocationBlock>& blocks, const ClusterListing& listing,
                  const std::map<std::string, HandleRecord>& handles, CheckReport& report) {
  Held held;
  const AllocationBlock* previous = nullptr;
  for (const auto& [cidr, block] : blocks) {
    if (previous && previous->cidr().overlaps(cidr)) {
      report.problems.push_back("blocks " + previous->cidr().str() + " and " + cidr.str() + " overlap");
    }
    previous = &block;
    report.allocations += block.used();
    if (!block.affinity().empty()) {
      if (!listing.nodes.count(block.affinity())) {
        report.problems.push_back("block " + cidr.str() + " is affine to node " + block.affinity() +
                                  ", which does not exist");
      }
      if (!listing.affinities.count({block.affinity(), keys::block_id(cidr)})) {
        report.problems.push_back("block " + cidr.str() + " is affine to " + block.affinity() +
                                  " but missing from that node's affinity index");
      }
    }
    bool in_pool = false;
    for (const auto& p : listing.pools) in_pool = in_pool || p.cidr.contains(cidr);
    if (!in_pool) report.warnings.push_back("block " + cidr.str() + " lies in no IP pool (its pool was deleted)");
    for (const auto& [ordinal, a] : block.allocations()) {
      ++held[a.handle][cidr];
      if (!handles.count(a.handle)) {
        report.problems.push_back("address " + cidr.at(ordinal).str() + " is allocated to handle " + a.handle +
                                  ", which does not exist (leaked address)");
      }
    }
  }
  return held;
}

// The affinity index names only blocks that say they are the node's.
void check_affinity_index(const std::map<Prefix, AllocationBlock>& blocks, const ClusterListing& listing,
                          CheckReport& report) {
  for (const auto& [node, id] : listing.affinities) {
    auto cidr = keys::block_from_id(id);
    auto it = cidr ? blocks.find(*cidr) : blocks.end();
    if (it == blocks.end() || it->second.affinity() != node) {
      report.problems.push_back("affinity index says node " + node + " holds block " +
                                (cidr ? cidr->str() : id) + ", but the block does not say so");
    }
  }
}

// Handles and blocks agree on how many addresses each handle holds in each block.
void check_handles(const std::map<std::string, HandleRecord>& handles, Held& held, CheckReport& report) {
  for (const auto& [id, record] : handles) {
    for (const auto& [cidr, count] : record.blocks) {
      const std::uint32_t actual = held.count(id) && held[id].count(cidr) ? held[id][cidr] : 0;
      if (actual != count) {
        report.problems.push_back("handle " + id + " records " + std::to_string(count) + " address(es) in block " +
                                  cidr.str() + " but the block holds " + std::to_string(actual) +
                                  (actual == 0 ? " (handle with no address)" : ""));
      }
    }
    if (record.blocks.empty()) report.problems.push_back("handle " + id + " holds no address");
    if (held.count(id)) {
      for (const auto& [cidr, count] : held[id]) {
        if (!record.blocks.count(cidr)) {
          report.problems.push_back("block " + cidr.str() + " holds " + std::to_string(count) +
                                    " address(es) of handle " + id + " that the handle does not record");
        }
      }
    }
  }
}

void warn_selection_gaps(const ClusterListing& listing, CheckReport& report) {
  const auto gaps = selection_gaps(listing.nodes, listing.pools);
  for (const auto& name : gaps.unselected_nodes) {
    report.warnings.push_back("node " + name + " (labels: " + format_labels(listing.nodes.at(name).labels) +
                              ") is selected by no enabled IP pool: its workloads will get no address");
  }
  for (const auto& pool : gaps.idle_pools) report.warnings.push_back("IP pool " + pool + " selects no node");
}

}  // namespace

Result<CheckReport> check_ipam(Datastore& store) {
  // One list of everything: blocks, handles, affinities and resources at one revision, so a
  // concurrent allocation can not show up as a half-made leak.
  auto all = store.list(kKeyRoot);
  if (!all) return all.error();
  ClusterListing listing = decode_listing(*all, ListingDepth::Audit);
  CheckReport report;
  report.problems = std::move(listing.problems);
  std::map<Prefix, AllocationBlock> blocks;
  for (auto& b : listing.blocks) blocks.emplace(b.cidr(), std::move(b));
  std::map<std::string, HandleRecord> handles;  // by handle id
  for (auto& h : listing.handles) handles.emplace(h.handle, std::move(h));
  report.blocks = blocks.size();
  report.handles = handles.size();

  Held held = check_blocks(blocks, listing, handles, report);
  check_affinity_index(blocks, listing, report);
  check_handles(handles, held, report);
  warn_selection_gaps(listing, report);
  return report;
}

}  // namespace blockd::ipam
