#include "ipam/block_reader_writer.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "ipam/keys.hpp"

namespace blockd::ipam {
namespace {

Result<StoredBlock> parse_block(KeyValue kv) {
  auto block = AllocationBlock::from_json(kv.value);
  if (!block) return block.error().within(kv.key);
  return StoredBlock{std::move(kv.key), kv.mod_revision, std::move(*block)};
}

}  // namespace

StoredHandle StoredHandle::absent(const std::string& id) { return {id, keys::handle(id), 0, std::nullopt}; }

void pause_before_attempt(int attempt) {
  if (attempt < 4) return;
  thread_local std::minstd_rand rng(std::random_device{}());
  const int cap = std::min(50, attempt) * 100;  // microseconds
  std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, cap)(rng)));
}

Result<std::optional<StoredBlock>> BlockReaderWriter::read_block(const Prefix& cidr) {
  auto kv = store_.get(keys::block(cidr));
  if (!kv) return kv.error();
  if (!kv->has_value()) return std::optional<StoredBlock>{};
  auto block = parse_block(std::move(**kv));
  if (!block) return block.error();
  return std::optional<StoredBlock>{std::move(*block)};
}

Result<std::optional<StoredBlock>> BlockReaderWriter::cached_or_read_block(const Prefix& cidr) {
  if (const StoredBlock* cached = cache_.find_block(keys::block(cidr))) return std::optional<StoredBlock>{*cached};
  return read_block(cidr);
}

Result<std::optional<StoredBlock>> BlockReaderWriter::block_holding(const Address& address,
                                                                     const std::vector<IPPool>& pools) {
  std::optional<KeyValue> found;
  for (const auto& pool : pools) {
    if (!pool.cidr.contains(address)) continue;
    auto kv = store_.get(keys::block(Prefix::make(address, pool.block_size)));
    if (!kv) return kv.error();
    if (kv->has_value()) found = std::move(**kv);
  }
  if (!found) {
    auto all = store_.list(keys::kBlocks);
    if (!all) return all.error();
    for (auto& kv : all->kvs) {
      auto cidr = keys::block_from_id(kv.key.substr(keys::kBlocks.size()));
      if (cidr && cidr->contains(address)) found = std::move(kv);
    }
  }
  if (!found) return std::optional<StoredBlock>{};
  auto block = parse_block(std::move(*found));
  if (!block) return block.error();
  return std::optional<StoredBlock>{std::move(*block)};
}

Result<std::optional<StoredBlock>> BlockReaderWriter::first_block_within(
    const Prefix& pool, const std::function<bool(const AllocationBlock&)>& wanted) {
  auto listed = store_.list(keys::blocks_within(pool));
  if (!listed) return listed.error();
  for (auto& kv : listed->kvs) {
    auto block = parse_block(std::move(kv));
    if (!block) return block.error();
    if (pool.contains(block->block.cidr()) && wanted(block->block)) return std::optional<StoredBlock>{std::move(*block)};
  }
  return std::optional<StoredBlock>{};
}

namespace {

std::vector<Prefix> blocks_listed(const ListResult& listed, const Prefix& pool) {
  std::vector<Prefix> out;
  for (const auto& kv : listed.kvs) {
    auto cidr = keys::block_from_id(kv.key.substr(keys::kBlocks.size()));
    if (cidr && cidr->overlaps(pool)) out.push_back(*cidr);
  }
  return out;
}

std::vector<Prefix> affinities_listed(const ListResult& index, const std::string& node) {
  const std::string prefix = keys::node_affinities(node);
  std::vector<Prefix> out;  // listed in key order: block ids sort as the block keys do
  for (const auto& kv : index.kvs) {
    if (auto cidr = keys::block_from_id(kv.key.substr(prefix.size()))) out.push_back(*cidr);
  }
  return out;
}

}  // namespace

Result<std::vector<Prefix>> BlockReaderWriter::blocks_within(const Prefix& pool) {
  auto listed = store_.list_keys(keys::blocks_within(pool));
  if (!listed) return listed.error();
  return blocks_listed(*listed, pool);
}

Result<std::vector<Prefix>> BlockReaderWriter::affinities_of(const std::string& node) {
  auto index = store_.list_keys(keys::node_affinities(node));
  if (!index) return index.error();
  return affinities_listed(*index, node);
}

Result<BlockReaderWriter::ClaimView> BlockReaderWriter::claim_view(const Prefix& pool, const std::string& node) {
  // The pool's blocks, then the node's index (in that order, or at one revision on etcd): a
  // sibling's claim is either in the index or in neither, racing us for the same candidate.
  // With them, in the same round trip, the node's blocks as cached: one freed by another
  // process since has room again, and is used before a claim (what a second read of the node's
  // blocks before the claim found).
  std::vector<Read> reads{{keys::blocks_within(pool), true, true}, {keys::node_affinities(node), true, true}};
  std::vector<std::string> cached;
  if (const auto* blocks = cache_.find(node)) {
    for (const auto& b : *blocks) cached.push_back(b.key);
  }
  for (const auto& key : cached) reads.push_back({key});
  auto read = store_.read_many(reads);
  if (!read) return read.error();
  for (std::size_t i = 0; i < cached.size(); ++i) {
    auto& kvs = (*read)[2 + i].kvs;
    cache_.refresh(node, cached[i], kvs.empty() ? std::nullopt : std::optional<KeyValue>{std::move(kvs.front())});
  }
  return ClaimView{blocks_listed((*read)[0], pool), affinities_listed((*read)[1], node)};
}

Result<StoredHandle> BlockReaderWriter::read_handle(const std::string& id) {
  auto kv = store_.get(keys::handle(id));
  if (!kv) return kv.error();
  return handle_as_read(id, std::move(*kv));
}

Result<StoredHandle> BlockReaderWriter::handle_as_read(const std::string& id, std::optional<KeyValue> kv) {
  StoredHandle handle = StoredHandle::absent(id);
  if (!kv) return handle;
  auto record = HandleRecord::from_json(kv->value);
  if (!record) return record.error().within(handle.key);
  handle.mod_revision = kv->mod_revision;
  handle.record = std::move(*record);
  return handle;
}

Result<BlockReaderWriter::ReleaseView> BlockReaderWriter::release_view(const std::vector<std::string>& handles,
                                                                       const std::vector<Prefix>& pools) {
  std::vector<Read> reads;
  for (const auto& id : handles) reads.push_back({keys::handle(id)});
  for (const auto& pool : pools) reads.push_back({keys::blocks_within(pool), true});
  auto read = store_.read_many(reads);
  if (!read) return read.error();
  ReleaseView view;
  for (std::size_t i = 0; i < handles.size(); ++i) {
    auto& kvs = (*read)[i].kvs;
    auto handle = handle_as_read(handles[i], kvs.empty() ? std::nullopt : std::optional<KeyValue>{std::move(kvs.front())});
    if (!handle) return handle.error();
    view.handles.push_back(std::move(*handle));
  }
  std::set<std::string> seen;  // a pool's key prefix may cover another pool's blocks too
  for (std::size_t i = 0; i < pools.size(); ++i) {
    for (auto& kv : (*read)[handles.size() + i].kvs) {
      auto cidr = keys::block_from_id(kv.key.substr(keys::kBlocks.size()));
      if (!cidr || !pools[i].contains(*cidr) || !seen.insert(kv.key).second) continue;
      auto block = parse_block(std::move(kv));
      if (!block) {
        view.unreadable.insert(*cidr);
        continue;
      }
      remember(*block);
      view.blocks.push_back(std::move(*block));
    }
  }
  return view;
}

Result<AffineBlockCache::NodeBlocks*> BlockReaderWriter::affine_blocks(const std::string& node) {
  if (auto* cached = cache_.find(node)) return cached;
  auto cidrs = affinities_of(node);
  if (!cidrs) return cidrs.error();
  // The node's blocks in one round trip, however many it holds.
  std::vector<Read> reads;
  for (const auto& cidr : *cidrs) reads.push_back({keys::block(cidr)});
  auto read = store_.read_many(reads);
  if (!read) return read.error();
  AffineBlockCache::NodeBlocks blocks;
  for (auto& one : *read) {
    for (auto& kv : one.kvs) {
      auto block = parse_block(std::move(kv));
      if (!block) return block.error();
      blocks.push_back(std::move(*block));
    }
  }
  return &cache_.fill(node, std::move(blocks));
}

void BlockReaderWriter::remember(StoredBlock read) {
  const std::string node = read.block.affinity();
  cache_.remember(node, read.key, std::move(read.block), read.mod_revision);
}

Result<bool> BlockReaderWriter::commit_assignments(std::vector<StoredBlock> blocks,
                                                  const std::vector<HandleInBlock>& handles,
                                                  const std::vector<Unchanged>& guards, bool* guard_failed) {
  Transaction txn;
  txn.unchanged = guards;
  for (const auto& b : blocks) {
    txn.compares.push_back({b.key, b.mod_revision});
    txn.operations.push_back(Operation::put(b.key, b.block.to_json()));
    if (b.mod_revision == 0) {  // a claim: its affinity entry with it
      const std::string affinity = keys::affinity(b.block.affinity(), b.block.cidr());
      txn.compares.push_back({affinity, 0});
      txn.operations.push_back(Operation::put(affinity, "{}"));
    }
  }
  std::vector<HandleRecord> records;
  for (const auto& [handle, cidr] : handles) {
    records.push_back(handle->record ? *handle->record : HandleRecord{handle->id, {}});
    records.back().add(cidr);
    txn.compares.push_back({handle->key, handle->mod_revision});
    txn.operations.push_back(Operation::put(handle->key, records.back().to_json()));
  }
  auto result = store_.commit(txn);
  if (!result) {
    for (const auto& b : blocks) cache_.forget(b.block.affinity());  // may or may not have applied
    return result.error();
  }
  if (result->succeeded) {
    for (std::size_t i = 0; i < handles.size(); ++i) {
      handles[i].handle->mod_revision = result->revision;
      handles[i].handle->record = std::move(records[i]);
    }
    for (auto& b : blocks) {
      const std::string owner = b.block.affinity();
      cache_.remember(owner, b.key, std::move(b.block), result->revision);
    }
    return true;
  }
  if (guard_failed) *guard_failed = result->changed_since;
  std::map<std::string, KeyValue> now;
  for (auto& kv : result->current) now.emplace(kv.key, std::move(kv));
  for (const auto& b : blocks) {
    auto it = now.find(b.key);
    cache_.refresh(b.block.affinity(), b.key, it == now.end() ? std::nullopt : std::optional<KeyValue>(it->second));
  }
  for (const auto& h : handles) {
    StoredHandle& handle = *h.handle;
    auto it = now.find(handle.key);
    auto read = handle_as_read(handle.id, it == now.end() ? std::nullopt : std::optional<KeyValue>(it->second));
    if (!read) return read.error();
    handle = std::move(*read);
  }
  return false;
}

Result<bool> BlockReaderWriter::commit_assignment(StoredBlock block, StoredHandle& handle,
                                                 const std::vector<Unchanged>& guards, bool* guard_failed) {
  const Prefix cidr = block.block.cidr();
  std::vector<StoredBlock> blocks;
  blocks.push_back(std::move(block));
  return commit_assignments(std::move(blocks), {{&handle, cidr}}, guards, guard_failed);
}

Result<bool> BlockReaderWriter::commit_release(const Prefix& cidr, std::optional<StoredBlock> block, bool drop_block,
                                               const StoredHandle& handle) {
  std::vector<BlockRelease> blocks;
  blocks.push_back({cidr, std::move(block), drop_block});
  return commit_releases(std::move(blocks), {&handle});
}

Result<bool> BlockReaderWriter::commit_releases(std::vector<BlockRelease> blocks,
                                                const std::vector<const StoredHandle*>& handles) {
  Transaction txn;
  for (const StoredHandle* handle : handles) {
    txn.compares.push_back({handle->key, handle->mod_revision});
    if (handle->record) {
      txn.operations.push_back(handle->record->blocks.empty() ? Operation::erase(handle->key)
                                                              : Operation::put(handle->key, handle->record->to_json()));
    }
  }
  for (const auto& [cidr, block, drop] : blocks) {
    const std::string block_key = block ? block->key : keys::block(cidr);
    txn.compares.push_back({block_key, block ? block->mod_revision : 0});
    if (!block) continue;
    const std::string& owner = block->block.affinity();
    if (drop) {
      txn.operations.push_back(Operation::erase(block_key));
      if (!owner.empty()) txn.operations.push_back(Operation::erase(keys::affinity(owner, cidr)));
    } else {
      txn.operations.push_back(Operation::put(block_key, block->block.to_json()));
    }
  }
  auto result = store_.commit(txn);
  if (!result || !result->succeeded) {
    for (const auto& b : blocks) {
      if (b.block) cache_.forget(b.block->block.affinity());  // it may have come from the cache, stale
    }
    if (!result) return result.error();
    return false;
  }
  for (auto& b : blocks) {
    if (!b.block) continue;
    const std::string owner = b.block->block.affinity();
    cache_.remember(owner, b.block->key, b.drop ? std::nullopt : std::optional<AllocationBlock>{std::move(b.block->block)},
                    result->revision);
  }
  return true;
}

Result<bool> BlockReaderWriter::drop_empty_block(const StoredBlock& block) {
  if (!block.block.empty()) return internal("block " + block.block.cidr().str() + " holds addresses");
  const std::string& owner = block.block.affinity();
  Transaction txn;
  txn.compares = {{block.key, block.mod_revision}};
  txn.operations = {Operation::erase(block.key)};
  if (!owner.empty()) txn.operations.push_back(Operation::erase(keys::affinity(owner, block.block.cidr())));
  auto result = store_.commit(txn);
  if (!result) {
    cache_.forget(owner);
    return result.error();
  }
  if (!result->succeeded) {
    cache_.forget(owner);
    return false;
  }
  cache_.remember(owner, block.key, std::nullopt, result->revision);
  return true;
}

Result<bool> BlockReaderWriter::clear_affinity(const Prefix& cidr, const std::string& node,
                                               std::optional<StoredBlock> block) {
  Transaction txn;
  txn.operations = {Operation::erase(keys::affinity(node, cidr))};
  if (block && block->block.affinity() == node) {
    block->block.clear_affinity();
    txn.compares = {{block->key, block->mod_revision}};
    txn.operations.push_back(Operation::put(block->key, block->block.to_json()));
  }
  cache_.forget(node);
  auto result = store_.commit(txn);
  if (!result) return result.error();
  return result->succeeded;
}

Result<bool> BlockReaderWriter::erase_handle(const StoredHandle& handle) {
  auto result = store_.commit({{{handle.key, handle.mod_revision}}, {Operation::erase(handle.key)}});
  if (!result) return result.error();
  return result->succeeded;
}

}  // namespace blockd::ipam
