// Which block of a pool a node claims next (Calico's findUnclaimedBlock with its
// randomBlockGenerator): pure, so the claim order is unit-tested without a store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ipam/net/prefix.hpp"

namespace blockd::ipam {

// The first block of `block_len` in `pool` that overlaps none of `taken` (the blocks that
// exist, and affinities whose block is missing), starting at the node's own starting block and
// wrapping around. Nodes start at different blocks, so nodes claiming at once rarely race for
// one block, and a node's later blocks follow its first (adjacent blocks aggregate into one
// route). At most about 64 candidates per taken block are tried: none found means full.
std::optional<Prefix> find_unclaimed_block(const Prefix& pool, unsigned block_len, std::vector<Prefix> taken,
                                           const std::string& node);

}  // namespace blockd::ipam
