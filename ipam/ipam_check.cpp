#include "ipam/ipam_check.hpp"

#include <map>
#include <set>

#include "ipam/block.hpp"
#include "ipam/keys.hpp"
#include "ipam/pool_selection.hpp"
#include "ipam/resources/resource_codec.hpp"
#include "ipam/resources/selector.hpp"

namespace blockd::ipam {

Result<CheckReport> check_ipam(Datastore& store) {
  // One list of everything: blocks, handles, affinities and resources at one revision, so a
  // concurrent allocation can not show up as a half-made leak.
  auto all = store.list(kKeyRoot);
  if (!all) return all.error();
  CheckReport report;
  std::map<std::string, Node> nodes;
  std::vector<IPPool> pools;
  std::map<Prefix, AllocationBlock> blocks;
  std::map<std::string, HandleRecord> handles;  // by handle id
  std::set<std::pair<std::string, std::string>> affinity_index;  // (node, block id)

  for (const auto& kv : all->kvs) {
    if (kv.key.starts_with(keys::kBlocks)) {
      auto b = AllocationBlock::from_json(kv.value);
      if (!b) {
        report.problems.push_back(kv.key + ": " + b.error().message);
        continue;
      }
      blocks.emplace(b->cidr(), std::move(*b));
    } else if (kv.key.starts_with(keys::kHandles)) {
      auto h = HandleRecord::from_json(kv.value);
      if (!h) {
        report.problems.push_back(kv.key + ": " + h.error().message);
        continue;
      }
      handles.emplace(h->handle, std::move(*h));
    } else if (kv.key.starts_with(keys::kAffinity)) {
      const std::string rest = kv.key.substr(keys::kAffinity.size());
      const auto slash = rest.rfind('/');
      affinity_index.insert({rest.substr(0, slash), rest.substr(slash + 1)});
    } else if (kv.key.starts_with(keys::kResources)) {
      auto r = resource_from_json(nlohmann::json::parse(kv.value, nullptr, false));
      if (!r) {
        report.problems.push_back(kv.key + ": " + r.error().message);
        continue;
      }
      if (auto* n = std::get_if<Node>(&*r)) nodes.emplace(n->name, *n);
      if (auto* p = std::get_if<IPPool>(&*r)) pools.push_back(*p);
    }
  }
  report.blocks = blocks.size();
  report.handles = handles.size();

  // Per handle, per block: what the blocks hold.
  std::map<std::string, std::map<Prefix, std::uint32_t>> held;
  const AllocationBlock* previous = nullptr;
  for (const auto& [cidr, block] : blocks) {
    if (previous && previous->cidr().overlaps(cidr)) {
      report.problems.push_back("blocks " + previous->cidr().str() + " and " + cidr.str() + " overlap");
    }
    previous = &block;
    report.allocations += block.used();
    if (!block.affinity().empty()) {
      if (!nodes.count(block.affinity())) {
        report.problems.push_back("block " + cidr.str() + " is affine to node " + block.affinity() +
                                  ", which does not exist");
      }
      if (!affinity_index.count({block.affinity(), keys::block_id(cidr)})) {
        report.problems.push_back("block " + cidr.str() + " is affine to " + block.affinity() +
                                  " but missing from that node's affinity index");
      }
    }
    bool in_pool = false;
    for (const auto& p : pools) in_pool = in_pool || p.cidr.contains(cidr);
    if (!in_pool) report.warnings.push_back("block " + cidr.str() + " lies in no IP pool (its pool was deleted)");
    for (const auto& [ordinal, a] : block.allocations()) {
      ++held[a.handle][cidr];
      if (!handles.count(a.handle)) {
        report.problems.push_back("address " + cidr.at(ordinal).str() + " is allocated to handle " + a.handle +
                                  ", which does not exist (leaked address)");
      }
    }
  }
  for (const auto& [node, id] : affinity_index) {
    auto cidr = keys::block_from_id(id);
    auto it = cidr ? blocks.find(*cidr) : blocks.end();
    if (it == blocks.end() || it->second.affinity() != node) {
      report.problems.push_back("affinity index says node " + node + " holds block " +
                                (cidr ? cidr->str() : id) + ", but the block does not say so");
    }
  }
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

  const auto gaps = selection_gaps(nodes, pools);
  for (const auto& name : gaps.unselected_nodes) {
    report.warnings.push_back("node " + name + " (labels: " + format_labels(nodes.at(name).labels) +
                              ") is selected by no enabled IP pool: its workloads will get no address");
  }
  for (const auto& pool : gaps.idle_pools) report.warnings.push_back("IP pool " + pool + " selects no node");
  return report;
}

}  // namespace blockd::ipam
