#include "ipam/unclaimed_block.hpp"

#include <algorithm>
#include <cstdint>

namespace blockd::ipam {
namespace {

// Where a node starts looking in a pool of `count` blocks: Calico seeds its generator from the
// host name. FNV-1a, then a murmur3 finalizer: FNV's low bits mix poorly and `count` is a
// power of two.
uint128 start_block(const std::string& node, uint128 count) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : node) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return uint128{h} % count;
}

// The taken blocks, for "does this candidate overlap one?" in O(log n): sorted by address,
// with the highest last address seen so far (a block of another size from a deleted pool may
// contain several candidates).
class TakenBlocks {
 public:
  explicit TakenBlocks(std::vector<Prefix> blocks) : blocks_(std::move(blocks)) {
    std::sort(blocks_.begin(), blocks_.end());
    for (const auto& b : blocks_) reach_.push_back(reach_.empty() ? b.last() : std::max(reach_.back(), b.last()));
  }
  std::size_t size() const { return blocks_.size(); }
  bool overlap(const Prefix& c) const {
    auto it = std::lower_bound(blocks_.begin(), blocks_.end(), c.first(),
                               [](const Prefix& b, const Address& a) { return b.first() < a; });
    if (it != blocks_.end() && it->first() <= c.last()) return true;  // starts inside c
    return it != blocks_.begin() && reach_[static_cast<std::size_t>(it - blocks_.begin()) - 1] >= c.first();
  }

 private:
  std::vector<Prefix> blocks_;
  std::vector<Address> reach_;
};

}  // namespace

std::optional<Prefix> find_unclaimed_block(const Prefix& pool, unsigned block_len, std::vector<Prefix> taken,
                                           const std::string& node) {
  const TakenBlocks existing(std::move(taken));
  auto range = pool.blocks(block_len);
  const uint128 count = range.count();
  if (count == 0) return std::nullopt;
  // At most existing.size() candidates are skipped (plus any a block of another size from a
  // deleted pool covers), wrapping around from the node's starting block.
  const uint128 limit = std::min<uint128>(count, existing.size() * 64 + 1);
  const uint128 start = start_block(node, count);
  for (uint128 i = 0; i < limit; ++i) {
    const uint128 at = start + i < count ? start + i : start + i - count;
    const Prefix candidate = range.at(at);
    if (!existing.overlap(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace blockd::ipam
