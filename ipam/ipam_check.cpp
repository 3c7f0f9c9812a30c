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

// A problem with a stable id: its kind and the records it is about.
void add(CheckReport& report, ProblemKind kind, std::string id_tail, std::string text, Problem fields = {}) {
  fields.kind = kind;
  fields.id = std::string(problem_kind_name(kind)) + "/" + id_tail;
  fields.text = std::move(text);
  report.problems.push_back(std::move(fields));
}

// The records a problem is about.
Problem about(std::optional<Address> address, std::optional<Prefix> block, std::string handle = "",
              std::string node = "") {
  Problem p;
  p.address = address;
  p.block = block;
  p.handle = std::move(handle);
  p.node = std::move(node);
  return p;
}

// Problems nothing can release automatically: numbered in the order found.
void inconsistency(CheckReport& report, std::string text) {
  std::size_t n = 1;
  for (const auto& p : report.problems) n += p.kind == ProblemKind::Inconsistency;
  add(report, ProblemKind::Inconsistency, std::to_string(n), std::move(text));
}

// Blocks: no overlap, affinity to an existing node and in its index, inside a pool, and every
// allocation's handle exists. Returns what the blocks hold per handle.
Held check_blocks(const std::map<Prefix, AllocationBlock>& blocks, const ClusterListing& listing,
                  const std::map<std::string, HandleRecord>& handles, CheckReport& report) {
  Held held;
  const AllocationBlock* previous = nullptr;
  for (const auto& [cidr, block] : blocks) {
    if (previous && previous->cidr().overlaps(cidr)) {
      inconsistency(report, "blocks " + previous->cidr().str() + " and " + cidr.str() + " overlap");
    }
    previous = &block;
    report.allocations += block.used();
    if (!block.affinity().empty()) {
      if (!listing.resources->nodes.count(block.affinity())) {
        add(report, ProblemKind::DeletedNodeAffinity, block.affinity() + "/" + cidr.str(),
            "block " + cidr.str() + " is affine to node " + block.affinity() + ", which does not exist",
            about(std::nullopt, cidr, "", block.affinity()));
      }
      if (!listing.affinities.count({block.affinity(), keys::block_id(cidr)})) {
        inconsistency(report, "block " + cidr.str() + " is affine to " + block.affinity() +
                                  " but missing from that node's affinity index");
      }
    }
    bool in_pool = false;
    for (const auto& p : listing.resources->pools) in_pool = in_pool || p.cidr.contains(cidr);
    // Calico's pool deletion keeps a block in use (and its route) until it is empty.
    if (!in_pool && !block.empty()) {
      report.warnings.push_back("block " + cidr.str() + " lies in no IP pool (its pool was deleted); it goes when its " +
                                std::to_string(block.used()) + " address(es) are released");
    }
    if (!in_pool && block.empty()) {
      add(report, ProblemKind::EmptyBlockOutsidePools, cidr.str(),
          "block " + cidr.str() + " is empty and lies in no IP pool (pinned by a deleted pool)", about(std::nullopt, cidr));
    }
    for (const auto& [ordinal, a] : block.allocations()) {
      ++held[a.handle][cidr];
      const Address address = cidr.at(ordinal);
      if (!handles.count(a.handle)) {
        add(report, ProblemKind::LeakedAddress, address.str(),
            "address " + address.str() + " is allocated to handle " + a.handle +
                ", which does not exist (leaked address)",
            about(address, cidr, a.handle));
      } else if (!a.node.empty() && !listing.resources->nodes.count(a.node)) {
        add(report, ProblemKind::DeletedNodeAddress, address.str(),
            "address " + address.str() + " is held by handle " + a.handle + " of node " + a.node +
                ", which does not exist",
            about(address, cidr, a.handle, a.node));
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
      inconsistency(report, "affinity index says node " + node + " holds block " + (cidr ? cidr->str() : id) +
                                ", but the block does not say so");
    }
  }
}

// Handles and blocks agree on how many addresses each handle holds in each block.
void check_handles(const std::map<std::string, HandleRecord>& handles, Held& held, CheckReport& report) {
  for (const auto& [id, record] : handles) {
    // A handle none of whose blocks holds its addresses can go (Calico's "handles with no IPs").
    if (!held.count(id)) {
      add(report, ProblemKind::EmptyHandle, id, "handle " + id + " holds no address", about(std::nullopt, std::nullopt, id));
      continue;
    }
    for (const auto& [cidr, count] : record.blocks) {
      const std::uint32_t actual = held[id].count(cidr) ? held[id][cidr] : 0;
      if (actual != count) {
        inconsistency(report, "handle " + id + " records " + std::to_string(count) + " address(es) in block " +
                                  cidr.str() + " but the block holds " + std::to_string(actual));
      }
    }
    for (const auto& [cidr, count] : held[id]) {
      if (!record.blocks.count(cidr)) {
        inconsistency(report, "block " + cidr.str() + " holds " + std::to_string(count) + " address(es) of handle " +
                                  id + " that the handle does not record");
      }
    }
  }
}

void warn_selection_gaps(const ClusterListing& listing, CheckReport& report) {
  const auto gaps = selection_gaps(listing.resources->nodes, listing.resources->pools);
  for (const auto& name : gaps.unselected_nodes) {
    report.warnings.push_back("node " + name + " (labels: " + format_labels(listing.resources->nodes.at(name).labels) +
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
  report.revision = listing.revision;
  for (auto& unreadable : listing.problems) inconsistency(report, std::move(unreadable));
  std::map<Prefix, AllocationBlock> blocks;
  for (const auto& b : listing.blocks) blocks.emplace(b.cidr(), b);
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
