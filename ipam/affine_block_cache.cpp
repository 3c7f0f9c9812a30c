#include "ipam/affine_block_cache.hpp"

#include <algorithm>

namespace blockd::ipam {

AffineBlockCache::NodeBlocks* AffineBlockCache::find(const std::string& node) {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : &it->second;
}

const StoredBlock* AffineBlockCache::find_block(const std::string& key) const {
  for (const auto& [_, blocks] : nodes_) {
    auto it = std::lower_bound(blocks.begin(), blocks.end(), key,
                               [](const StoredBlock& b, const std::string& k) { return b.key < k; });
    if (it != blocks.end() && it->key == key) return &*it;
  }
  return nullptr;
}

std::vector<Prefix> AffineBlockCache::blocks_holding(const std::string& handle) const {
  std::vector<Prefix> out;
  for (const auto& [_, blocks] : nodes_) {
    for (const auto& b : blocks) {
      const auto& held = b.block.allocations();
      if (std::any_of(held.begin(), held.end(), [&](const auto& a) { return a.second.handle == handle; })) {
        out.push_back(b.block.cidr());
      }
    }
  }
  return out;
}

void AffineBlockCache::remember(const std::string& node, const std::string& key, std::optional<AllocationBlock> block,
                                std::int64_t revision) {
  auto* blocks = find(node);
  if (!blocks) return;
  auto it = std::lower_bound(blocks->begin(), blocks->end(), key,
                             [](const StoredBlock& b, const std::string& k) { return b.key < k; });
  const bool found = it != blocks->end() && it->key == key;
  if (found && it->mod_revision > revision && block) return;  // we already know a newer state
  if (!block || block->affinity() != node) {
    if (found) blocks->erase(it);
  } else if (found) {
    it->block = std::move(*block);
    it->mod_revision = revision;
  } else {
    blocks->insert(it, StoredBlock{key, revision, std::move(*block)});
  }
}

void AffineBlockCache::refresh(const std::string& node, const std::string& key, const std::optional<KeyValue>& now) {
  if (!now) return remember(node, key, std::nullopt, 0);
  auto block = AllocationBlock::from_json(now->value);
  if (!block) return forget(node);
  remember(node, key, std::move(*block), now->mod_revision);
}

}  // namespace blockd::ipam
