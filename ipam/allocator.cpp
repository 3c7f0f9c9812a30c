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

Result<std::vector<KeyValue>> Allocator::affine_blocks(const std::string& node) {
  auto cached = affine_cache_.find(node);
  if (cached != affine_cache_.end()) return cached->second;
  auto index = store_.list(keys::node_affinities(node));
  if (!index) return index.error();
  std::vector<KeyValue> blocks;
  for (const auto& kv : index->kvs) {
    auto id = kv.key.substr(keys::node_affinities(node).size());
    auto block = store_.get(keys::kBlocks + id);
    if (!block) return block.error();
    if (block->has_value()) blocks.push_back(**block);
  }
  affine_cache_[node] = blocks;
  return blocks;
}

void Allocator::remember(const std::string& node, const std::string& key, const std::string* value,
                         std::int64_t revision) {
  auto cache = affine_cache_.find(node);
  if (cache == affine_cache_.end()) return;
  auto& blocks = cache->second;
  auto it = std::find_if(blocks.begin(), blocks.end(), [&](const KeyValue& kv) { return kv.key == key; });
  if (!value) {
    if (it != blocks.end()) blocks.erase(it);
  } else if (it != blocks.end()) {
    it->value = *value;
    it->mod_revision = revision;
  } else {
    blocks.push_back({key, *value, revision, revision});
  }
}

Result<std::optional<std::int64_t>> Allocator::commit_assignment(const std::string& node, const KeyValue& block_kv,
                                                                  const AllocationBlock& block, bool claim,
                                                                  const std::string& handle, KeyValue& handle_kv) {
  HandleRecord record{handle, {}};
  if (!handle_kv.value.empty()) {
    auto parsed = HandleRecord::from_json(handle_kv.value);
    if (!parsed) return parsed.error();
    record = std::move(*parsed);
  }
  ++record.blocks[block.cidr()];
  Transaction txn;
  txn.compares = {{block_kv.key, block_kv.mod_revision}, {handle_kv.key, handle_kv.mod_revision}};
  txn.operations = {Operation::put(block_kv.key, block.to_json()), Operation::put(handle_kv.key, record.to_json())};
  if (claim) {
    const std::string affinity = keys::affinity(node, block.cidr());
    txn.compares.push_back({affinity, 0});
    txn.operations.push_back(Operation::put(affinity, "{}"));
  }
  auto result = store_.commit(txn);
  if (!result) return result.error();
  if (result->succeeded) {
    handle_kv.value = txn.operations[1].value;
    handle_kv.mod_revision = result->revision;
    remember(node, block_kv.key, &txn.operations[0].value, result->revision);
    return std::optional<std::int64_t>{result->revision};
  }
  // Lost the race: learn the handle's current state from the answer (absent if not listed).
  handle_kv.value.clear();
  handle_kv.mod_revision = 0;
  for (const auto& kv : result->current) {
    if (kv.key == handle_kv.key) handle_kv = kv;
  }
  auto& cache = affine_cache_[node];
  std::erase_if(cache, [&](const KeyValue& kv) { return kv.key == block_kv.key; });
  for (const auto& kv : result->current) {
    if (kv.key == block_kv.key && !claim) cache.push_back(kv);
  }
  if (claim) affine_cache_.erase(node);  // someone else claimed: our view of the node is stale
  return std::optional<std::int64_t>{};
}

Result<Allocator::Attempt> Allocator::try_affine(const AllocationContext& ctx,
                                                              const std::vector<IPPool>& pools,
                                                              const AllocationRequest& req, KeyValue& handle_kv) {
  (void)req;
  for (int pass = 0; pass < 2; ++pass) {
    const bool was_cached = affine_cache_.count(ctx.node) > 0;
    auto blocks = affine_blocks(ctx.node);
    if (!blocks) return blocks.error();
    // Address order, so a node fills its lowest block first.
    std::sort(blocks->begin(), blocks->end(), [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
    for (const auto& kv : *blocks) {
      auto block = AllocationBlock::from_json(kv.value);
      if (!block) return block.error().within(kv.key);
      const IPPool* pool = pool_holding(pools, block->cidr());
      if (!pool || block->free() == 0 || block->affinity() != ctx.node) continue;
      auto address = block->assign({req.handle, ctx.node});
      auto committed = commit_assignment(ctx.node, kv, *block, false, req.handle, handle_kv);
      if (!committed) return committed.error();
      if (!committed->has_value()) return Attempt{Attempt::Outcome::Retry, {}};
      return Attempt{Attempt::Outcome::Allocated, AllocatedAddress{*address, block->cidr(), pool->name, false}};
    }
    // Another process may have claimed a block for this node since the cache was filled.
    if (!was_cached) break;
    affine_cache_.erase(ctx.node);
  }
  return Attempt{};  // no room
}

Result<Allocator::Attempt> Allocator::try_claim(const AllocationContext& ctx,
                                                             const std::vector<IPPool>& pools,
                                                             const AllocationRequest& req, KeyValue& handle_kv) {
  for (const auto& pool : pools) {
    auto listed = store_.list_keys(keys::blocks_within(pool.cidr));
    if (!listed) return listed.error();
    std::vector<Prefix> existing;
    for (const auto& kv : listed->kvs) {
      auto cidr = keys::block_from_id(kv.key.substr(keys::kBlocks.size()));
      if (cidr && cidr->overlaps(pool.cidr)) existing.push_back(*cidr);
    }
    auto range = pool.cidr.blocks(pool.block_size);
    // Blocks are claimed in address order; at most existing.size() are skipped (plus any a
    // block of another size from a deleted pool covers).
    const uint128 limit = std::min<uint128>(range.count(), existing.size() * 64 + 1);
    for (uint128 i = 0; i < limit; ++i) {
      const Prefix candidate = range.at(i);
      if (std::any_of(existing.begin(), existing.end(), [&](const Prefix& e) { return e.overlaps(candidate); })) continue;
      AllocationBlock block(candidate, ctx.node);
      auto address = block.assign({req.handle, ctx.node});
      const KeyValue absent{keys::block(candidate), {}, 0, 0};
      auto committed = commit_assignment(ctx.node, absent, block, true, req.handle, handle_kv);
      if (!committed) return committed.error();
      if (!committed->has_value()) return Attempt{Attempt::Outcome::Retry, {}};
      return Attempt{Attempt::Outcome::Allocated, AllocatedAddress{*address, candidate, pool.name, false}};
    }
  }
  return Attempt{};
}

Result<Allocator::Attempt> Allocator::try_borrow(const AllocationContext& ctx,
                                                              const std::vector<IPPool>& pools,
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
      auto committed = commit_assignment(ctx.node, kv, *block, false, req.handle, handle_kv);
      if (!committed) return committed.error();
      if (!committed->has_value()) return Attempt{Attempt::Outcome::Retry, {}};
      const bool borrowed = block->affinity() != ctx.node;
      return Attempt{Attempt::Outcome::Allocated, AllocatedAddress{*address, block->cidr(), pool.name, borrowed}};
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
  KeyValue handle_kv{keys::handle(req.handle), {}, 0, 0};  // assume a new handle: one round trip
  using Try = Result<Attempt> (Allocator::*)(const AllocationContext&, const std::vector<IPPool>&,
                                              const AllocationRequest&, KeyValue&);
  const Try steps[] = {&Allocator::try_affine, &Allocator::try_claim, &Allocator::try_borrow};
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    backoff(attempt);
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
    const std::string block_json = block->to_json();
    if (drop_block) {
      txn.operations.push_back(Operation::erase(block_kv->key));
      if (!block->affinity().empty()) txn.operations.push_back(Operation::erase(keys::affinity(block->affinity(), block->cidr())));
    } else {
      txn.operations.push_back(Operation::put(block_kv->key, block_json));
    }
    auto result = store_.commit(txn);
    if (!result) return result.error();
    if (result->succeeded) {
      remember(block->affinity(), block_kv->key, drop_block ? nullptr : &block_json, result->revision);
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
    std::string affinity, block_json;
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
      block_json = block->to_json();
      if (drop_block) {
        txn.operations.push_back(Operation::erase(keys::block(cidr)));
        if (!affinity.empty()) txn.operations.push_back(Operation::erase(keys::affinity(affinity, cidr)));
      } else {
        txn.operations.push_back(Operation::put(keys::block(cidr), block_json));
      }
    }
    record->blocks.erase(cidr);
    txn.operations.push_back(record->blocks.empty() ? Operation::erase(handle_key)
                                                    : Operation::put(handle_key, record->to_json()));
    auto result = store_.commit(txn);
    if (!result) return result.error();
    if (result->succeeded) {
      remember(affinity, keys::block(cidr), drop_block ? nullptr : &block_json, result->revision);
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
    auto block_kv = store_.get(keys::block(cidr));
    if (!block_kv) return block_kv.error();
    if (!block_kv->has_value()) continue;
    auto block = AllocationBlock::from_json((*block_kv)->value);
    if (!block) return block.error().within(keys::block(cidr));
    for (const auto& [ordinal, a] : block->allocations()) {
      if (a.handle == handle) out.push_back(cidr.at(ordinal));
    }
  }
  return out;
}

}  // namespace blockd::ipam
