#include "ipam/allocator.hpp"

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include "ipam/keys.hpp"

namespace blockd::ipam {
namespace {

// Conflicts are expected under contention (many workloads starting on one node, or many nodes
// claiming blocks at once); each attempt is cheap, but the bound keeps a caller from spinning
// forever against a store that keeps changing.
constexpr int kMaxAttempts = 400;

const IPPool* pool_holding(const std::vector<IPPool>& pools, const Prefix& block) {
  for (const auto& p : pools) {
    if (p.cidr.contains(block)) return &p;
  }
  return nullptr;
}

void backoff(int attempt) {
  if (attempt < 4) return;
  thread_local std::minstd_rand rng(std::random_device{}());
  const int cap = std::min(50, attempt) * 100;  // microseconds
  std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, cap)(rng)));
}

Status check_handle(const std::string& handle) {
  if (handle.empty()) return invalid("handle: must not be empty");
  if (handle.size() > 512) return invalid("handle: longer than 512 characters");
  return {};
}

}  // namespace

Result<Allocator::NodeBlocks*> Allocator::affine_blocks(const std::string& node) {
  if (auto cached = affine_cache_.find(node); cached != affine_cache_.end()) return &cached->second;
  const std::string prefix = keys::node_affinities(node);
  auto index = store_.list_keys(prefix);
  if (!index) return index.error();
  NodeBlocks blocks;  // listed in key order: block ids sort as the block keys do
  for (const auto& kv : index->kvs) {
    const std::string key = keys::kBlocks + kv.key.substr(prefix.size());
    auto got = store_.get(key);
    if (!got) return got.error();
    if (!got->has_value()) continue;
    auto block = AllocationBlock::from_json((*got)->value);
    if (!block) return block.error().within(key);
    blocks.push_back({key, (*got)->mod_revision, std::move(*block)});
  }
  return &(affine_cache_[node] = std::move(blocks));
}

void Allocator::remember(const std::string& node, const std::string& key, AllocationBlock* block,
                         std::int64_t revision) {
  auto cache = affine_cache_.find(node);
  if (cache == affine_cache_.end()) return;
  auto& blocks = cache->second;
  auto it = std::lower_bound(blocks.begin(), blocks.end(), key,
                             [](const KnownBlock& b, const std::string& k) { return b.key < k; });
  const bool found = it != blocks.end() && it->key == key;
  if (found && it->mod_revision > revision && block) return;  // we already know a newer state
  if (!block || block->affinity() != node) {
    if (found) blocks.erase(it);
  } else if (found) {
    it->block = std::move(*block);
    it->mod_revision = revision;
  } else {
    blocks.insert(it, KnownBlock{key, revision, std::move(*block)});
  }
}

void Allocator::refresh(const std::string& node, const std::string& key, const std::optional<KeyValue>& now) {
  if (!now) return remember(node, key, nullptr, 0);
  auto block = AllocationBlock::from_json(now->value);
  if (!block) return forget(node);
  remember(node, key, &*block, now->mod_revision);
}

Result<Allocator::Commit> Allocator::commit_assignment(const std::string& node, const std::string& block_key,
                                                       std::int64_t block_revision, const AllocationBlock& block,
                                                       bool claim, const std::string& handle, KeyValue& handle_kv) {
  HandleRecord record{handle, {}};
  if (!handle_kv.value.empty()) {
    auto parsed = HandleRecord::from_json(handle_kv.value);
    if (!parsed) return parsed.error();
    record = std::move(*parsed);
  }
  ++record.blocks[block.cidr()];
  Transaction txn;
  txn.compares = {{block_key, block_revision}, {handle_kv.key, handle_kv.mod_revision}};
  txn.operations = {Operation::put(block_key, block.to_json()), Operation::put(handle_kv.key, record.to_json())};
  if (claim) {
    const std::string affinity = keys::affinity(node, block.cidr());
    txn.compares.push_back({affinity, 0});
    txn.operations.push_back(Operation::put(affinity, "{}"));
  }
  auto result = store_.commit(txn);
  if (!result) return result.error();
  Commit out;
  out.revision = result->revision;
  if (result->succeeded) {
    out.succeeded = true;
    handle_kv.value = std::move(txn.operations[1].value);
    handle_kv.mod_revision = result->revision;
    return out;
  }
  // Lost the race: learn the handle's and the block's current state from the answer (absent if
  // not listed), so the retry needs no read.
  handle_kv.value.clear();
  handle_kv.mod_revision = 0;
  for (auto& kv : result->current) {
    if (kv.key == handle_kv.key) handle_kv = kv;
    if (kv.key == block_key) out.block_now = std::move(kv);
  }
  return out;
}

Result<Allocator::Attempt> Allocator::try_affine(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                                                 const AllocationRequest& req, KeyValue& handle_kv) {
  for (int pass = 0; pass < 2; ++pass) {
    const bool was_cached = affine_cache_.count(ctx.node) > 0;
    auto blocks = affine_blocks(ctx.node);
    if (!blocks) return blocks.error();
    // Address order, so a node fills its lowest block first.
    for (auto& known : **blocks) {
      const IPPool* pool = pool_holding(pools, known.block.cidr());
      if (!pool || known.block.free() == 0 || known.block.affinity() != ctx.node) continue;
      // Assigned in the cached copy itself (no copy, no parse): every outcome but success
      // replaces or drops the entry below.
      auto address = known.block.assign({req.handle, ctx.node});
      const std::string key = known.key;
      auto committed = commit_assignment(ctx.node, key, known.mod_revision, known.block, false, req.handle, handle_kv);
      if (!committed) {
        forget(ctx.node);  // the write may or may not have applied
        return committed.error();
      }
      if (committed->succeeded) {
        known.mod_revision = committed->revision;
        return Attempt{Attempt::Outcome::Allocated, AllocatedAddress{*address, known.block.cidr(), pool->name, false}};
      }
      refresh(ctx.node, key, committed->block_now);
      return Attempt{Attempt::Outcome::Retry, {}};
    }
    // Another process may have claimed a block for this node since the cache was filled.
    if (!was_cached) break;
    forget(ctx.node);
  }
  return Attempt{};  // no room
}

namespace {

// Where a node starts looking for a free block in a pool of `count` blocks: Calico's
// randomBlockGenerator seeds from the host name, so nodes claiming at once rarely race for one
// block, and a node's later blocks follow its first (adjacent blocks aggregate into one route).
// FNV-1a, then a murmur3 finalizer: FNV's low bits mix poorly and `count` is a power of two.
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

// The blocks of a pool that exist, for "does this candidate overlap one?" in O(log n): sorted
// by address, with the highest last address seen so far (a block of another size from a
// deleted pool may contain several candidates).
class ExistingBlocks {
 public:
  void add(const Prefix& p) { blocks_.push_back(p); }
  void seal() {
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

Result<bool> Allocator::sibling_claimed(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                                        std::vector<Prefix>& dangling) {
  const std::string prefix = keys::node_affinities(ctx.node);
  auto index = store_.list_keys(prefix);
  if (!index) return index.error();
  auto blocks = affine_blocks(ctx.node);
  if (!blocks) return blocks.error();
  for (const auto& kv : index->kvs) {
    const std::string key = keys::kBlocks + kv.key.substr(prefix.size());
    if (std::any_of((*blocks)->begin(), (*blocks)->end(), [&](const KnownBlock& b) { return b.key == key; })) continue;
    auto got = store_.get(key);
    if (!got) return got.error();
    if (!got->has_value()) {  // an affinity without its block: a claim of that block would fail
      if (auto cidr = keys::block_from_id(kv.key.substr(prefix.size()))) dangling.push_back(*cidr);
      continue;
    }
    auto block = AllocationBlock::from_json((*got)->value);
    if (!block) return block.error().within(key);
    const bool usable = block->free() > 0 && pool_holding(pools, block->cidr()) != nullptr;
    remember(ctx.node, key, &*block, (*got)->mod_revision);
    if (usable) return true;
  }
  return false;
}

Result<Allocator::Attempt> Allocator::try_claim(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                                                const AllocationRequest& req, KeyValue& handle_kv) {
  std::optional<std::vector<Prefix>> dangling;
  for (const auto& pool : pools) {
    auto listed = store_.list_keys(keys::blocks_within(pool.cidr));
    if (!listed) return listed.error();
    // Another agent of this node (a second process, a restart) may have claimed a block since
    // try_affine looked: use it rather than claim one more. Read after the pool's blocks, so a
    // sibling's claim is either seen here or races us for the same candidate (same start).
    if (!dangling) {
      dangling.emplace();
      auto sibling = sibling_claimed(ctx, pools, *dangling);
      if (!sibling) return sibling.error();
      if (*sibling) return Attempt{Attempt::Outcome::Retry, {}};
    }
    ExistingBlocks existing;
    for (const auto& kv : listed->kvs) {
      auto cidr = keys::block_from_id(kv.key.substr(keys::kBlocks.size()));
      if (cidr && cidr->overlaps(pool.cidr)) existing.add(*cidr);
    }
    for (const auto& d : *dangling) existing.add(d);
    existing.seal();
    auto range = pool.cidr.blocks(pool.block_size);
    const uint128 count = range.count();
    if (count == 0) continue;
    // At most existing.size() candidates are skipped (plus any a block of another size from a
    // deleted pool covers), wrapping around from the node's starting block.
    const uint128 limit = std::min<uint128>(count, existing.size() * 64 + 1);
    const uint128 start = start_block(ctx.node, count);
    for (uint128 i = 0; i < limit; ++i) {
      const uint128 at = start + i < count ? start + i : start + i - count;
      const Prefix candidate = range.at(at);
      if (existing.overlap(candidate)) continue;
      AllocationBlock block(candidate, ctx.node);
      auto address = block.assign({req.handle, ctx.node});
      const std::string key = keys::block(candidate);
      auto committed = commit_assignment(ctx.node, key, 0, block, true, req.handle, handle_kv);
      if (!committed) {
        forget(ctx.node);
        return committed.error();
      }
      if (!committed->succeeded) {
        // Someone claimed it first; if it was a sibling for this node, the retry allocates in it.
        refresh(ctx.node, key, committed->block_now);
        return Attempt{Attempt::Outcome::Retry, {}};
      }
      remember(ctx.node, key, &block, committed->revision);
      return Attempt{Attempt::Outcome::Allocated, AllocatedAddress{*address, candidate, pool.name, false}};
    }
  }
  return Attempt{};
}

Result<Allocator::Attempt> Allocator::try_borrow(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                                                 const AllocationRequest& req, KeyValue& handle_kv) {
  for (const auto& pool : pools) {
    if (pool.strict_affinity) continue;
    auto listed = store_.list(keys::blocks_within(pool.cidr));
    if (!listed) return listed.error();
    for (const auto& kv : listed->kvs) {
      auto block = AllocationBlock::from_json(kv.value);
      if (!block) return block.error().within(kv.key);
      if (!pool.cidr.contains(block->cidr()) || block->free() == 0) continue;
      auto address = block->assign({req.handle, ctx.node});
      auto committed = commit_assignment(ctx.node, kv.key, kv.mod_revision, *block, false, req.handle, handle_kv);
      if (!committed) return committed.error();
      const std::string owner = block->affinity();
      if (!committed->succeeded) {
        refresh(owner, kv.key, committed->block_now);
        return Attempt{Attempt::Outcome::Retry, {}};
      }
      AllocatedAddress out{*address, block->cidr(), pool.name, owner != ctx.node};
      remember(owner, kv.key, &*block, committed->revision);
      return Attempt{Attempt::Outcome::Allocated, out};
    }
  }
  return Attempt{};
}

Result<AllocatedAddress> Allocator::allocate(const AllocationContext& ctx, const AllocationRequest& req) {
  if (auto ok = check_handle(req.handle); !ok) return ok.error();
  if (ctx.node.empty()) return invalid("node: must not be empty");
  auto choice = choose_pools(ctx.pools, ctx.labels, req.family, req.pools);
  if (choice.candidates.empty()) {
    std::string msg = std::string("no ") + (req.family == Family::V4 ? "IPv4" : "IPv6") + " IP pool selects node " +
                      ctx.node + " (labels: " + format_labels(ctx.labels) + ")";
    if (choice.rejected.empty()) msg += "; there are no IP pools";
    for (const auto& r : choice.rejected) msg += "; " + r.pool + ": " + r.reason;
    return invalid(msg);
  }
  for (const auto& name : req.pools) {
    if (std::none_of(ctx.pools.begin(), ctx.pools.end(), [&](const IPPool& p) { return p.name == name; })) {
      return not_found("IP pool " + name + " does not exist");
    }
  }
  // Assume a new handle: one round trip. A handle that exists fails the first compare, which
  // returns it, so a held address is found without a read up front.
  KeyValue handle_kv{keys::handle(req.handle), {}, 0, 0};
  using Try = Result<Attempt> (Allocator::*)(const AllocationContext&, const std::vector<IPPool>&,
                                              const AllocationRequest&, KeyValue&);
  const Try steps[] = {&Allocator::try_affine, &Allocator::try_claim, &Allocator::try_borrow};
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    backoff(attempt);
    auto held = held_address(ctx, req, handle_kv);
    if (!held) return held.error();
    if (*held) return **held;
    bool retry = false;
    for (Try step : steps) {
      auto r = (this->*step)(ctx, choice.candidates, req, handle_kv);
      if (!r) return r.error();
      if (r->outcome == Attempt::Outcome::Allocated) return r->address;
      if (r->outcome == Attempt::Outcome::Retry) {
        retry = true;
        break;
      }
    }
    if (!retry) {
      std::string msg = "no free address for node " + ctx.node + " in ";
      for (std::size_t i = 0; i < choice.candidates.size(); ++i) {
        const auto& p = choice.candidates[i];
        msg += (i ? ", " : "") + p.name + " (" + p.cidr.str() + ": every block claimed and full" +
               (p.strict_affinity ? "; strict affinity: no borrowing from other nodes' blocks" : "") + ")";
      }
      return exhausted(msg);
    }
  }
  return unavailable("allocation for node " + ctx.node + " lost " + std::to_string(kMaxAttempts) +
                     " compare-and-swap races in a row; the store is too contended, try again");
}

Result<std::optional<AllocationBlock>> Allocator::read_block(const Prefix& cidr) {
  auto kv = store_.get(keys::block(cidr));
  if (!kv) return kv.error();
  if (!kv->has_value()) return std::optional<AllocationBlock>{};
  auto block = AllocationBlock::from_json((*kv)->value);
  if (!block) return block.error().within(keys::block(cidr));
  return std::optional<AllocationBlock>{std::move(*block)};
}

Result<std::optional<AllocatedAddress>> Allocator::held_address(const AllocationContext& ctx,
                                                                const AllocationRequest& req,
                                                                const KeyValue& handle_kv) {
  if (handle_kv.value.empty()) return std::optional<AllocatedAddress>{};
  auto record = HandleRecord::from_json(handle_kv.value);
  if (!record) return record.error().within(handle_kv.key);
  for (const auto& [cidr, count] : record->blocks) {
    if (cidr.family() != req.family) continue;
    auto block = read_block(cidr);
    if (!block) return block.error();
    if (!block->has_value()) continue;
    for (const auto& [ordinal, a] : (*block)->allocations()) {
      if (a.handle != req.handle) continue;
      const IPPool* pool = pool_holding(ctx.pools, cidr);
      return std::optional<AllocatedAddress>{
          AllocatedAddress{cidr.at(ordinal), cidr, pool ? pool->name : "", (*block)->affinity() != ctx.node, true}};
    }
  }
  return std::optional<AllocatedAddress>{};
}

Result<ReleasedAddress> Allocator::release_address(const Address& address, const std::vector<IPPool>& pools,
                                                   const ReleaseOptions& options) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    backoff(attempt);
    std::optional<KeyValue> block_kv;
    for (const auto& pool : pools) {
      if (!pool.cidr.contains(address)) continue;
      auto kv = store_.get(keys::block(Prefix::make(address, pool.block_size)));
      if (!kv) return kv.error();
      if (kv->has_value()) block_kv = **kv;
    }
    if (!block_kv) {  // its pool is gone or has another block size: look at every block
      auto all = store_.list(keys::kBlocks);
      if (!all) return all.error();
      for (const auto& kv : all->kvs) {
        auto cidr = keys::block_from_id(kv.key.substr(keys::kBlocks.size()));
        if (cidr && cidr->contains(address)) block_kv = kv;
      }
    }
    if (!block_kv) return not_found(address.str() + " is not allocated (no block holds it)");
    auto block = AllocationBlock::from_json(block_kv->value);
    if (!block) return block.error().within(block_kv->key);
    auto released = block->release(address);
    if (!released) return not_found(address.str() + " is not allocated (block " + block->cidr().str() + ")");

    const std::string handle_key = keys::handle(released->handle);
    auto handle_kv = store_.get(handle_key);
    if (!handle_kv) return handle_kv.error();
    Transaction txn;
    txn.compares = {{block_kv->key, block_kv->mod_revision},
                    {handle_key, handle_kv->has_value() ? (*handle_kv)->mod_revision : 0}};
    if (handle_kv->has_value()) {
      auto record = HandleRecord::from_json((*handle_kv)->value);
      if (!record) return record.error().within(handle_key);
      auto it = record->blocks.find(block->cidr());
      if (it != record->blocks.end() && --it->second == 0) record->blocks.erase(it);
      txn.operations.push_back(record->blocks.empty() ? Operation::erase(handle_key)
                                                      : Operation::put(handle_key, record->to_json()));
    }
    const bool drop_block = options.release_empty_blocks && block->empty();
    const std::string owner = block->affinity();
    if (drop_block) {
      txn.operations.push_back(Operation::erase(block_kv->key));
      if (!owner.empty()) txn.operations.push_back(Operation::erase(keys::affinity(owner, block->cidr())));
    } else {
      txn.operations.push_back(Operation::put(block_kv->key, block->to_json()));
    }
    auto result = store_.commit(txn);
    if (!result) return result.error();
    if (result->succeeded) {
      remember(owner, block_kv->key, drop_block ? nullptr : &*block, result->revision);
      return ReleasedAddress{address, *released};
    }
  }
  return unavailable("release of " + address.str() + " lost too many compare-and-swap races; try again");
}

Result<std::vector<ReleasedAddress>> Allocator::release_handle(const std::string& handle, const ReleaseOptions& options) {
  if (auto ok = check_handle(handle); !ok) return ok.error();
  const std::string handle_key = keys::handle(handle);
  std::vector<ReleasedAddress> out;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    backoff(attempt);
    auto handle_kv = store_.get(handle_key);
    if (!handle_kv) return handle_kv.error();
    if (!handle_kv->has_value()) return out;  // nothing (left) to release
    auto record = HandleRecord::from_json((*handle_kv)->value);
    if (!record) return record.error().within(handle_key);
    if (record->blocks.empty()) {
      auto r = store_.commit({{{handle_key, (*handle_kv)->mod_revision}}, {Operation::erase(handle_key)}});
      if (!r) return r.error();
      if (r->succeeded) return out;
      continue;
    }
    // One block per transaction: each commit leaves the handle consistent with the blocks.
    const Prefix cidr = record->blocks.begin()->first;
    auto block_kv = store_.get(keys::block(cidr));
    if (!block_kv) return block_kv.error();
    Transaction txn;
    txn.compares = {{handle_key, (*handle_kv)->mod_revision},
                    {keys::block(cidr), block_kv->has_value() ? (*block_kv)->mod_revision : 0}};
    std::vector<ReleasedAddress> released;
    std::string affinity;
    std::optional<AllocationBlock> kept;  // the block as written, for the node's cache
    bool drop_block = true;
    if (block_kv->has_value()) {
      auto block = AllocationBlock::from_json((*block_kv)->value);
      if (!block) return block.error().within(keys::block(cidr));
      affinity = block->affinity();
      std::vector<Address> mine;
      for (const auto& [ordinal, a] : block->allocations()) {
        if (a.handle == handle) mine.push_back(cidr.at(ordinal));
      }
      for (const auto& addr : mine) released.push_back({addr, *block->release(addr)});
      drop_block = options.release_empty_blocks && block->empty();
      if (drop_block) {
        txn.operations.push_back(Operation::erase(keys::block(cidr)));
        if (!affinity.empty()) txn.operations.push_back(Operation::erase(keys::affinity(affinity, cidr)));
      } else {
        txn.operations.push_back(Operation::put(keys::block(cidr), block->to_json()));
        kept = std::move(*block);
      }
    }
    record->blocks.erase(cidr);
    txn.operations.push_back(record->blocks.empty() ? Operation::erase(handle_key)
                                                    : Operation::put(handle_key, record->to_json()));
    auto result = store_.commit(txn);
    if (!result) return result.error();
    if (result->succeeded) {
      remember(affinity, keys::block(cidr), kept ? &*kept : nullptr, result->revision);
      out.insert(out.end(), released.begin(), released.end());
      attempt = -1;  // progress: the bound counts consecutive losses only
    }
  }
  return unavailable("release of handle " + handle + " lost too many compare-and-swap races; try again");
}

Result<std::vector<Address>> Allocator::addresses_of(const std::string& handle) {
  if (auto ok = check_handle(handle); !ok) return ok.error();
  auto handle_kv = store_.get(keys::handle(handle));
  if (!handle_kv) return handle_kv.error();
  std::vector<Address> out;
  if (!handle_kv->has_value()) return out;
  auto record = HandleRecord::from_json((*handle_kv)->value);
  if (!record) return record.error().within(keys::handle(handle));
  for (const auto& [cidr, count] : record->blocks) {
    auto block = read_block(cidr);
    if (!block) return block.error();
    if (!block->has_value()) continue;
    for (const auto& [ordinal, a] : (*block)->allocations()) {
      if (a.handle == handle) out.push_back(cidr.at(ordinal));
    }
  }
  return out;
}

}  // namespace blockd::ipam
