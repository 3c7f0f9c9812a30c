// Each node's affine blocks as last read or written, so that an allocation into one of them is
// one round trip (a compare-and-swap) with no read and no parse, and a release from one needs
// only the handle's read. An entry is valid for exactly
// its `mod_revision`, which every commit compares: a stale entry costs one lost
// compare-and-swap, never a wrong address.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ipam/block.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::ipam {

// A block as read from or written to the store, at the revision a commit of it compares.
struct StoredBlock {
  std::string key;
  std::int64_t mod_revision = 0;
  AllocationBlock block;
};

class AffineBlockCache {
 public:
  using NodeBlocks = std::vector<StoredBlock>;  // in key order, which is address order

  NodeBlocks* find(const std::string& node);
  // The block under `key` in any node's entry (none when no entry holds it).
  const StoredBlock* find_block(const std::string& key) const;
  // The cached blocks that hold an address of `handle`, in any node's entry.
  std::vector<Prefix> blocks_holding(const std::string& handle) const;
  NodeBlocks& fill(const std::string& node, NodeBlocks blocks) { return nodes_[node] = std::move(blocks); }
  void forget(const std::string& node) { nodes_.erase(node); }
  // Keep a node's entry (if it has one) current after a read or a write: `block` is the block
  // under `key` now, or nothing when it is gone. A block no longer affine to the node leaves it.
  void remember(const std::string& node, const std::string& key, std::optional<AllocationBlock> block,
                std::int64_t revision);
  // The same from the block a lost compare returned (parsed; the node is forgotten if it does
  // not parse, so that the next read reports the damage).
  void refresh(const std::string& node, const std::string& key, const std::optional<KeyValue>& now);

 private:
  std::map<std::string, NodeBlocks> nodes_;
};

}  // namespace blockd::ipam
