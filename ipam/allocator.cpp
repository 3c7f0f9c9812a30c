#include "ipam/allocator.hpp"

#include <algorithm>
#include <set>

#include "ipam/keys.hpp"
#include "ipam/unclaimed_block.hpp"

namespace blockd::ipam {
namespace {

const IPPool* pool_holding(const std::vector<IPPool>& pools, const Prefix& block) {
  for (const auto& p : pools) {
    if (p.cidr.contains(block)) return &p;
  }
  return nullptr;
}

Status check_handle(const std::string& handle) {
  if (handle.empty()) return invalid("handle: must not be empty");
  if (handle.size() > 512) return invalid("handle: longer than 512 characters");
  return {};
}

Error no_pool_selects(const AllocationContext& ctx, const AllocationRequest& req, const PoolChoice& choice) {
  std::string msg = std::string("no ") + (req.family == Family::V4 ? "IPv4" : "IPv6") + " IP pool selects node " +
                    ctx.node + " (labels: " + format_labels(ctx.labels) + ")";
  if (choice.rejected.empty()) msg += "; there are no IP pools";
  for (const auto& r : choice.rejected) msg += "; " + r.pool + ": " + r.reason;
  return invalid(msg);
}

bool strict(const IPPool& pool, const IpamSettings& settings) {
  return pool.strict_affinity || settings.config.strict_affinity;
}

Error no_free_address(const std::string& node, const std::vector<IPPool>& candidates, const IpamSettings& settings,
                      std::size_t held_blocks, bool block_limit) {
  const auto& config = settings.config;
  // Calico's ErrBlockLimit, named with the numbers behind it.
  if (block_limit) {
    return exhausted("cannot allocate new block due to per host block limit: node " + node + " holds " +
                     std::to_string(held_blocks) + " block(s), IPAMConfiguration default has maxBlocksPerHost " +
                     std::to_string(config.max_blocks_per_host) +
                     (config.strict_affinity ? " and strictAffinity (no borrowing)" : "") + ", and they are full");
  }
  std::string msg = "no free address for node " + node + " in ";
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& p = candidates[i];
    msg += (i ? ", " : "") + p.name + " (" + p.cidr.str() + ": " +
           (config.auto_allocate_blocks ? "every block claimed and full"
                                        : "the node's blocks are full and IPAMConfiguration default has "
                                          "autoAllocateBlocks false") +
           (strict(p, settings) ? "; strict affinity: no borrowing from other nodes' blocks" : "") + ")";
  }
  return exhausted(msg);
}

}  // namespace

Result<Allocator::Attempt> Allocator::assign_in(StoredBlock block, const std::string& pool,
                                                const AllocationContext& ctx, const AllocationRequest& req,
                                                const IpamSettings& settings, StoredHandle& handle) {
  auto address = block.block.assign({req.handle, ctx.node}, settings.reserved);
  if (!address) return Attempt{};  // full (callers pick blocks with room)
  const Prefix cidr = block.block.cidr();
  const bool borrowed = block.block.affinity() != ctx.node;
  bool settings_changed = false;
  auto committed = blocks_.commit_assignment(std::move(block), handle, settings.guards(), &settings_changed);
  if (!committed) return committed.error();
  if (settings_changed) settings_.reset();  // read again before the retry
  // Lost: someone changed the block (or claimed it first) or the handle; the retry starts from
  // what they wrote (a block a sibling claimed for this node is then allocated in).
  if (!*committed) return Attempt{Attempt::Outcome::Retry, {}};
  return Attempt{Attempt::Outcome::Allocated, AllocatedAddress{*address, cidr, pool, borrowed}};
}

Result<Allocator::Attempt> Allocator::try_affine(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                                                 const AllocationRequest& req, const IpamSettings& settings,
                                                 StoredHandle& handle) {
  // No second read when the cached blocks are full: try_claim's one read (claim_view) reads
  // them again with the node's index, so a block another process claimed for this node or room
  // it freed is used rather than a new claim (sibling_claimed); without a claim they are read
  // again before anything is borrowed or refused (allocate). So a claim costs one read and its
  // commit.
  affine_from_cache_ = blocks_.has_cached(ctx.node) && !affine_read_now_;
  auto affine = blocks_.affine_blocks(ctx.node);
  if (!affine) return affine.error();
  // Address order, so a node fills its lowest block first.
  for (auto& known : **affine) {
    const IPPool* pool = pool_holding(pools, known.block.cidr());
    if (!pool || known.block.affinity() != ctx.node || !known.block.has_room(settings.reserved)) continue;
    // Moved out of the cache (no copy, no parse): the commit puts back the block it wrote, or
    // the block as it is now.
    return assign_in(StoredBlock{known.key, known.mod_revision, std::move(known.block)}, pool->name, ctx, req,
                     settings, handle);
  }
  return Attempt{};  // no room
}

Result<bool> Allocator::sibling_claimed(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                                        const IpamSettings& settings, const std::vector<Prefix>& affinities,
                                        std::vector<Prefix>& dangling, std::size_t& held) {
  auto known = blocks_.affine_blocks(ctx.node);
  if (!known) return known.error();
  auto usable = [&](const AllocationBlock& b) {
    return b.affinity() == ctx.node && pool_holding(pools, b.cidr()) != nullptr && b.has_room(settings.reserved);
  };
  for (const auto& cidr : affinities) {
    held += pool_holding(pools, cidr) != nullptr;
    const std::string key = keys::block(cidr);
    auto cached = std::find_if((*known)->begin(), (*known)->end(), [&](const StoredBlock& b) { return b.key == key; });
    if (cached != (*known)->end()) {
      // Read again with the index (claim_view): room another process freed is used first.
      if (usable(cached->block)) return true;
      continue;
    }
    auto block = blocks_.read_block(cidr);
    if (!block) return block.error();
    if (!*block) {  // an affinity without its block: a claim of that block would fail
      held -= pool_holding(pools, cidr) != nullptr;
      dangling.push_back(cidr);
      continue;
    }
    const bool room = usable((*block)->block);
    blocks_.remember(std::move(**block));
    if (room) return true;
  }
  return false;
}

Result<Allocator::Attempt> Allocator::try_claim(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                                                const AllocationRequest& req, const IpamSettings& settings,
                                                StoredHandle& handle) {
  auto claim = find_claim(ctx, pools, settings);
  if (!claim) return claim.error();
  if (!claim->block) return Attempt{claim->outcome, {}, claim->block_limit};
  return assign_in(std::move(*claim->block), claim->pool, ctx, req, settings, handle);
}

Result<Allocator::Claim> Allocator::find_claim(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                                              const IpamSettings& settings) {
  if (!settings.config.auto_allocate_blocks) return Claim{};
  std::optional<std::vector<Prefix>> dangling;
  for (const auto& pool : pools) {
    std::vector<Prefix> taken;
    if (!dangling) {
      // Another agent of this node (a second process, a restart) may have claimed a block since
      // try_affine looked: use it rather than claim one more. The node's index is read with
      // the pool's blocks, not before (claim_view), so a sibling's claim is either seen here or
      // races us for the same candidate (same start).
      auto view = blocks_.claim_view(pool.cidr, ctx.node);
      if (!view) return view.error();
      taken = std::move(view->taken);
      dangling.emplace();
      held_blocks_ = 0;
      auto sibling = sibling_claimed(ctx, pools, settings, view->affinities, *dangling, held_blocks_);
      if (!sibling) return sibling.error();
      if (*sibling) return Claim{Attempt::Outcome::Retry, false, std::nullopt, {}};
      // Calico's maxBlocksPerHost: no claim past the limit (the caller borrows, or fails).
      const auto max = settings.config.max_blocks_per_host;
      if (max != 0 && held_blocks_ >= max) return Claim{Attempt::Outcome::NoRoom, true, std::nullopt, {}};
    } else {
      auto listed = blocks_.blocks_within(pool.cidr);
      if (!listed) return listed.error();
      taken = std::move(*listed);
    }
    taken.insert(taken.end(), dangling->begin(), dangling->end());
    // A block whose every address is reserved is passed over, as if claimed.
    for (;;) {
      auto candidate = find_unclaimed_block(pool.cidr, pool.block_size, taken, ctx.node);
      if (!candidate) break;
      AllocationBlock fresh(*candidate, ctx.node);
      if (!fresh.has_room(settings.reserved)) {
        taken.push_back(*candidate);
        continue;
      }
      return Claim{Attempt::Outcome::Allocated, false, StoredBlock{keys::block(*candidate), 0, std::move(fresh)},
                   pool.name};
    }
  }
  return Claim{};
}

Result<Allocator::Attempt> Allocator::try_borrow(const AllocationContext& ctx, const std::vector<IPPool>& pools,
                                                 const AllocationRequest& req, const IpamSettings& settings,
                                                 StoredHandle& handle) {
  for (const auto& pool : pools) {
    if (strict(pool, settings)) continue;
    auto block = blocks_.first_block_within(
        pool.cidr, [&](const AllocationBlock& b) { return b.has_room(settings.reserved); });
    if (!block) return block.error();
    if (*block) return assign_in(std::move(**block), pool.name, ctx, req, settings, handle);
  }
  return Attempt{};
}

Status Allocator::release_deselected_blocks(const AllocationContext& ctx) {
  auto affine = blocks_.affine_blocks(ctx.node);
  if (!affine) return affine.error();
  std::vector<StoredBlock> stale;
  for (const auto& known : **affine) {
    if (!known.block.empty() || known.block.affinity() != ctx.node) continue;
    const IPPool* pool = pool_holding(ctx.pools, known.block.cidr());
    if (pool == nullptr || !selects(*pool, ctx.labels)) stale.push_back(known);
  }
  // A block that changed since it was read (an address taken) is simply kept.
  for (const auto& block : stale) {
    if (auto dropped = blocks_.drop_empty_block(block); !dropped) return dropped.error();
  }
  return {};
}

bool Allocator::drop_emptied(const AllocationBlock& block, const ReleaseOptions& options) {
  if (!block.empty()) return false;
  return options.release_empty_blocks || (options.pools && !pool_holding(*options.pools, block.cidr()));
}

Result<std::vector<IPPool>> Allocator::candidate_pools(const AllocationContext& ctx,
                                                       const AllocationRequest& req) const {
  if (auto ok = check_handle(req.handle); !ok) return ok.error();
  if (ctx.node.empty()) return invalid("node: must not be empty");
  auto choice = choose_pools(ctx.pools, ctx.labels, req.family, req.pools, req.use);
  if (choice.candidates.empty()) return no_pool_selects(ctx, req, choice);
  for (const auto& name : req.pools) {
    if (std::none_of(ctx.pools.begin(), ctx.pools.end(), [&](const IPPool& p) { return p.name == name; })) {
      return not_found("IP pool " + name + " does not exist");
    }
  }
  return std::move(choice.candidates);
}

Result<AllocatedAddress> Allocator::allocate(const AllocationContext& ctx, const AllocationRequest& req) {
  auto candidates = candidate_pools(ctx, req);
  if (!candidates) return candidates.error();
  affine_read_now_ = !blocks_.has_cached(ctx.node);
  if (auto ok = release_deselected_blocks(ctx); !ok) return ok.error();
  // Settings read before this call may be stricter than the store's (a deletion since): read
  // them again once before reporting that no address is free.
  bool read_here = false;
  // Assume a new handle: one round trip. A handle that exists fails the first compare, which
  // returns it, so a held address is found without a read up front.
  StoredHandle handle = StoredHandle::absent(req.handle);
  using Try = Result<Attempt> (Allocator::*)(const AllocationContext&, const std::vector<IPPool>&,
                                              const AllocationRequest&, const IpamSettings&, StoredHandle&);
  const Try steps[] = {&Allocator::try_affine, &Allocator::try_claim, &Allocator::try_borrow};
  return retry_lost_races<AllocatedAddress>(
      "allocation for node " + ctx.node, [&]() -> Result<std::optional<AllocatedAddress>> {
        auto held = held_address(ctx, req, handle);
        if (!held) return held.error();
        if (*held) return *held;
        if (!settings_) {
          auto read = read_ipam_settings(store_);
          if (!read) return read.error();
          settings_ = std::move(*read);
          read_here = true;
        }
        const IpamSettings& settings = *settings_;
        bool block_limit = false;
        for (Try step : steps) {
          if (step == &Allocator::try_borrow && affine_from_cache_) {
            // No claim was made: the node's own blocks, as an earlier call cached them, may have
            // room again (a release by another process). Read them before borrowing or failing.
            blocks_.forget(ctx.node);
            affine_read_now_ = true;
            return std::optional<AllocatedAddress>{};
          }
          auto r = (this->*step)(ctx, *candidates, req, settings, handle);
          if (!r) return r.error();
          if (r->outcome == Attempt::Outcome::Allocated) return std::optional<AllocatedAddress>{r->address};
          if (r->outcome == Attempt::Outcome::Retry) return std::optional<AllocatedAddress>{};
          block_limit = block_limit || r->block_limit;
        }
        if (!read_here) {
          settings_.reset();
          return std::optional<AllocatedAddress>{};
        }
        return no_free_address(ctx.node, *candidates, settings, held_blocks_, block_limit);
      });
}

struct Allocator::Batch {
  const std::vector<AllocationRequest>& requests;
  std::vector<std::vector<IPPool>> candidates;  // per request
  std::vector<std::optional<Result<AllocatedAddress>>> results;
  std::vector<bool> one_by_one;     // its handle exists: allocate() finds what it holds
  std::vector<StoredHandle> handles;  // as the last commit learnt them (absent: assumed new)
  std::optional<std::size_t> no_room;  // the first request the last plan found no room for

  bool waiting(std::size_t i) const { return !results[i] && !one_by_one[i]; }
};

Result<std::optional<std::size_t>> Allocator::commit_batch(const AllocationContext& ctx, Batch& batch) {
  if (!settings_) {
    auto read = read_ipam_settings(store_);
    if (!read) return read.error();
    settings_ = std::move(*read);
  }
  const IpamSettings& settings = *settings_;
  const auto guards = settings.guards();
  auto affine = blocks_.affine_blocks(ctx.node);
  if (!affine) return affine.error();
  // Copies of the blocks this transaction changes (the cache keeps what the store holds until
  // the commit applies), and what each request gets.
  std::vector<StoredBlock> touched;
  std::vector<BlockReaderWriter::HandleInBlock> handles;
  std::vector<std::pair<std::size_t, AllocatedAddress>> planned;
  std::set<std::string> in_txn;  // a handle is written once per transaction
  std::size_t bytes = 0, block_ops = 0;  // what `touched` adds to the transaction
  std::optional<StoredBlock> claimed;  // at most one claim per transaction
  bool claim_tried = false;
  batch.no_room.reset();
  for (std::size_t i = 0; i < batch.requests.size(); ++i) {
    const AllocationRequest& req = batch.requests[i];
    if (!batch.waiting(i) || in_txn.contains(req.handle)) continue;
    // The first block in address order with room, as allocate() picks (a node fills its lowest
    // block first), counting what this batch already took from it.
    const StoredBlock* fresh = nullptr;  // a block this transaction does not change yet
    std::optional<std::size_t> in_touched;
    const IPPool* pool = nullptr;
    for (const auto& known : **affine) {
      pool = pool_holding(batch.candidates[i], known.block.cidr());
      if (!pool || known.block.affinity() != ctx.node) continue;
      auto it = std::find_if(touched.begin(), touched.end(), [&](const StoredBlock& b) { return b.key == known.key; });
      if (it == touched.end() ? !known.block.has_room(settings.reserved) : !it->block.has_room(settings.reserved)) {
        continue;
      }
      if (it == touched.end()) fresh = &known;
      else in_touched = static_cast<std::size_t>(it - touched.begin());
      break;
    }
    for (std::size_t k = 0; k < touched.size() && !fresh && !in_touched; ++k) {  // the block claimed below
      pool = pool_holding(batch.candidates[i], touched[k].block.cidr());
      if (touched[k].mod_revision == 0 && pool && touched[k].block.has_room(settings.reserved)) in_touched = k;
    }
    if (!fresh && !in_touched && !claim_tried) {
      // No room in the node's blocks: claim one in this same transaction (allocate()'s step 3,
      // with the rest of the batch in it). The claim's one read (claim_view) reads the node's
      // cached blocks again too: room another agent of the node freed, or a block it claimed,
      // comes back as Retry below and is used before any claim.
      claim_tried = true;
      auto claim = find_claim(ctx, batch.candidates[i], settings);
      if (!claim) return claim.error();
      if (claim->outcome == Attempt::Outcome::Retry) {
        // The claim's read found room in one of the node's blocks. When this batch is already
        // filling that room, re-planning would find the same and retry without end: commit
        // what is planned, and plan the rest afresh from the blocks as just read.
        if (planned.empty()) return std::optional<std::size_t>{};
        break;
      }
      if (claim->block) {
        claimed = std::move(claim->block);
        fresh = &*claimed;
        pool = pool_holding(batch.candidates[i], claimed->block.cidr());
      }
    }
    if (!fresh && !in_touched) {
      if (!batch.no_room) batch.no_room = i;
      continue;
    }
    // Within etcd's limits: one compare and one put per block (two for a claim: its affinity)
    // and per handle, plus the guards.
    const std::size_t fresh_ops = fresh ? (fresh->mod_revision == 0 ? 2 : 1) : 0;
    const std::size_t block_bytes = fresh ? fresh->block.to_json().size() : 0;
    const std::size_t request_bytes = 2 * req.handle.size() + ctx.node.size() + 128;
    const std::size_t ops = block_ops + fresh_ops + planned.size() + 1 + guards.size();
    if (!planned.empty() && (ops > kMaxBatchOperations || bytes + block_bytes + request_bytes > kMaxBatchBytes)) break;
    if (fresh) {
      in_touched = touched.size();
      touched.push_back(*fresh);
      block_ops += fresh_ops;
    }
    bytes += block_bytes + request_bytes;
    AllocationBlock& block = touched[*in_touched].block;
    auto address = block.assign({req.handle, ctx.node}, settings.reserved);
    if (!address) return internal("block " + block.cidr().str() + " had room but assigned nothing");
    in_txn.insert(req.handle);
    planned.push_back({i, AllocatedAddress{*address, block.cidr(), pool->name}});
  }
  if (planned.empty()) return std::optional<std::size_t>{0};
  for (const auto& [i, address] : planned) handles.push_back({&batch.handles[i], address.block});
  bool settings_changed = false;
  auto committed = blocks_.commit_assignments(std::move(touched), handles, guards, &settings_changed);
  if (!committed) return committed.error();
  if (settings_changed) settings_.reset();
  if (!*committed) {
    // A handle that exists now is a retried request: allocate() finds what it holds.
    for (const auto& [i, address] : planned) batch.one_by_one[i] = batch.handles[i].record.has_value();
    return std::optional<std::size_t>{};
  }
  for (auto& [i, address] : planned) batch.results[i] = std::move(address);
  return std::optional<std::size_t>{planned.size()};
}

std::vector<Result<AllocatedAddress>> Allocator::allocate_batch(const AllocationContext& ctx,
                                                                const std::vector<AllocationRequest>& requests) {
  if (requests.size() == 1) return {allocate(ctx, requests.front())};
  const std::size_t n = requests.size();
  Batch batch{requests, std::vector<std::vector<IPPool>>(n), std::vector<std::optional<Result<AllocatedAddress>>>(n),
              std::vector<bool>(n), {}, {}};
  std::set<std::string> seen;
  for (std::size_t i = 0; i < n; ++i) {
    batch.handles.push_back(StoredHandle::absent(requests[i].handle));
    auto pools = candidate_pools(ctx, requests[i]);
    if (!pools) batch.results[i] = pools.error();
    else batch.candidates[i] = std::move(*pools);
    // The same handle again: allocate() answers it after the first (the address it got, reused).
    batch.one_by_one[i] = !seen.insert(requests[i].handle).second;
  }
  if (auto ok = release_deselected_blocks(ctx); !ok) {
    for (auto& r : batch.results) {
      if (!r) r = ok.error();
    }
  }
  for (;;) {
    std::size_t allocated = 0, waiting = 0;
    for (std::size_t i = 0; i < n; ++i) waiting += batch.waiting(i);
    if (waiting > 0) {
      auto step = retry_lost_races<std::size_t>("batch allocation for node " + ctx.node,
                                                [&] { return commit_batch(ctx, batch); });
      // Each request then goes allocate()'s way and gets its own answer (or error).
      if (!step) std::fill(batch.one_by_one.begin(), batch.one_by_one.end(), true);
      else allocated = *step;
    }
    if (allocated > 0) continue;  // plan the rest again
    // Nothing fitted: one request allocate()'s way (it claims a block the rest then fill).
    std::optional<std::size_t> next;
    for (std::size_t i = 0; i < n && !next; ++i) {
      if (!batch.results[i] && batch.one_by_one[i]) next = i;
    }
    if (!next && batch.no_room && !batch.results[*batch.no_room]) next = batch.no_room;
    if (!next) break;
    batch.results[*next] = allocate(ctx, requests[*next]);
    batch.no_room.reset();
  }
  std::vector<Result<AllocatedAddress>> out;
  for (auto& r : batch.results) out.push_back(r ? std::move(*r) : internal("batch allocation left a request unanswered"));
  return out;
}

Result<std::optional<AllocatedAddress>> Allocator::held_address(const AllocationContext& ctx,
                                                                const AllocationRequest& req,
                                                                const StoredHandle& handle) {
  if (!handle.record) return std::optional<AllocatedAddress>{};
  for (const auto& [cidr, count] : handle.record->blocks) {
    if (cidr.family() != req.family) continue;
    auto block = blocks_.read_block(cidr);
    if (!block) return block.error();
    if (!*block) continue;
    const auto held = (*block)->block.addresses_of(req.handle);
    if (held.empty()) continue;
    const IPPool* pool = pool_holding(ctx.pools, cidr);
    return std::optional<AllocatedAddress>{AllocatedAddress{held.front(), cidr, pool ? pool->name : "",
                                                            (*block)->block.affinity() != ctx.node, true}};
  }
  return std::optional<AllocatedAddress>{};
}

Result<ReleasedAddress> Allocator::release_address(const Address& address, const std::vector<IPPool>& pools,
                                                   const ReleaseOptions& options) {
  return retry_lost_races<ReleasedAddress>(
      "release of " + address.str(), [&]() -> Result<std::optional<ReleasedAddress>> {
        auto found = blocks_.block_holding(address, pools);
        if (!found) return found.error();
        if (!*found) return not_found(address.str() + " is not allocated (no block holds it)");
        StoredBlock& block = **found;
        const Prefix cidr = block.block.cidr();
        auto released = block.block.release(address);
        if (!released) return not_found(address.str() + " is not allocated (block " + cidr.str() + ")");
        auto handle = blocks_.read_handle(released->handle);
        if (!handle) return handle.error();
        if (handle->record) handle->record->remove(cidr);
        ReleaseOptions with_pools = options;
        with_pools.pools = &pools;
        const bool drop_block = drop_emptied(block.block, with_pools);
        auto committed = blocks_.commit_release(cidr, std::move(block), drop_block, *handle);
        if (!committed) return committed.error();
        if (!*committed) return std::optional<ReleasedAddress>{};
        return std::optional<ReleasedAddress>{ReleasedAddress{address, *released}};
      });
}

Result<std::optional<bool>> Allocator::release_first_block(StoredHandle stored, const ReleaseOptions& options,
                                                           std::vector<ReleasedAddress>& released) {
  const std::string& handle = stored.id;
  if (!stored.record) return std::optional<bool>{true};  // nothing (left) to release
  if (stored.record->blocks.empty()) {
    auto erased = blocks_.erase_handle(stored);
    if (!erased) return erased.error();
    return *erased ? std::optional<bool>{true} : std::nullopt;
  }
  const Prefix cidr = stored.record->blocks.begin()->first;
  // The cached block is as good as a read: the commit compares its revision (and forgets it when
  // stale, so that the retry reads).
  auto block = blocks_.cached_or_read_block(cidr);
  if (!block) return block.error();
  std::vector<ReleasedAddress> freed;
  bool drop_block = false;
  if (*block) {
    freed = (*block)->block.release_handle(handle);
    drop_block = drop_emptied((*block)->block, options);
  }
  stored.record->blocks.erase(cidr);
  const bool last_block = stored.record->blocks.empty();  // the commit erases the handle then
  auto committed = blocks_.commit_release(cidr, std::move(*block), drop_block, stored);
  if (!committed) return committed.error();
  if (!*committed) return std::optional<bool>{};
  released.insert(released.end(), freed.begin(), freed.end());
  return std::optional<bool>{last_block};
}

Result<std::vector<ReleasedAddress>> Allocator::release_handle(const std::string& handle, const ReleaseOptions& options) {
  if (auto ok = check_handle(handle); !ok) return ok.error();
  auto stored = blocks_.read_handle(handle);
  if (!stored) return stored.error();
  return release_handle(std::move(*stored), options);
}

Result<std::vector<ReleasedAddress>> Allocator::release_handle(const std::string& handle, std::optional<KeyValue> as_read,
                                                               const ReleaseOptions& options) {
  if (auto ok = check_handle(handle); !ok) return ok.error();
  auto stored = BlockReaderWriter::handle_as_read(handle, std::move(as_read));
  if (!stored) return stored.error();
  return release_handle(std::move(*stored), options);
}

Result<std::vector<ReleasedAddress>> Allocator::release_handle(StoredHandle first, const ReleaseOptions& options) {
  std::vector<ReleasedAddress> out;
  const std::string id = first.id;
  std::optional<StoredHandle> known = std::move(first);
  // One block per transaction, so that each commit leaves the handle consistent with the
  // blocks; the bound on lost races counts consecutive losses only.
  for (;;) {
    auto done = retry_lost_races<bool>("release of handle " + id, [&]() -> Result<std::optional<bool>> {
      if (!known) {
        auto read = blocks_.read_handle(id);
        if (!read) return read.error();
        known = std::move(*read);
      }
      StoredHandle stored = std::move(*known);
      known.reset();  // read again for the next block or after a lost race
      return release_first_block(std::move(stored), options, out);
    });
    if (!done) return done.error();
    if (*done) return out;
  }
}

Result<CompanionRelease> Allocator::release_handle_with(const std::string& handle, const std::vector<IPPool>& pools,
                                                        const ReleaseCompanion& companion,
                                                        const ReleaseOptions& options) {
  if (auto ok = check_handle(handle); !ok) return ok.error();
  // A workload of the node whose blocks are cached has its addresses in them: their pools are
  // the ones to read (the read checks it against the handle's record).
  std::vector<const IPPool*> look_in;
  for (const auto& cidr : blocks_.cached_blocks_holding(handle)) {
    const IPPool* pool = pool_holding(pools, cidr);
    if (pool && std::find(look_in.begin(), look_in.end(), pool) == look_in.end()) look_in.push_back(pool);
  }
  CompanionRelease out;
  if (!look_in.empty()) {
    auto done = retry_lost_races<bool>("release of handle " + handle, [&] {
      return release_with_companions(handle, look_in, companion, options, out);
    });
    if (!done) return done.error();
    if (*done) return out;
  }
  auto alone = release_handle(handle, options);
  if (!alone) return alone.error();
  out.released = std::move(*alone);
  out.companions_checked = false;
  return out;
}

Result<std::optional<bool>> Allocator::release_with_companions(const std::string& handle,
                                                               const std::vector<const IPPool*>& look_in,
                                                               const ReleaseCompanion& companion,
                                                               const ReleaseOptions& options, CompanionRelease& out) {
  std::vector<std::string> ids{handle};
  std::vector<Prefix> cidrs;
  for (const IPPool* pool : look_in) {
    ids.push_back(companion.handle(*pool));
    cidrs.push_back(pool->cidr);
  }
  auto view = blocks_.release_view(ids, cidrs);
  if (!view) return view.error();
  std::map<Prefix, StoredBlock> read;
  for (auto& b : view->blocks) read.emplace(b.block.cidr(), std::move(b));
  std::set<Prefix> touched;  // the blocks the commit compares (and writes when they exist)
  // Frees every address of `stored` in the blocks as read; false (nothing freed) when one of its
  // blocks was not read.
  auto free_all = [&](StoredHandle& stored, std::vector<ReleasedAddress>& freed) {
    if (!stored.record) return true;
    for (const auto& entry : stored.record->blocks) {
      const Prefix& cidr = entry.first;
      const bool in_view = std::any_of(look_in.begin(), look_in.end(), [&](const IPPool* p) { return p->cidr.contains(cidr); });
      if (!in_view || view->unreadable.count(cidr)) return false;
    }
    for (const auto& [cidr, _] : stored.record->blocks) {
      touched.insert(cidr);
      if (auto it = read.find(cidr); it != read.end()) {
        auto f = it->second.block.release_handle(stored.id);
        freed.insert(freed.end(), f.begin(), f.end());
      }
    }
    stored.record->blocks.clear();  // the commit erases the handle
    return true;
  };
  StoredHandle& main = view->handles[0];
  std::vector<ReleasedAddress> released, companions;
  if (!free_all(main, released)) return std::optional<bool>{false};
  std::vector<const StoredHandle*> handles{&main};
  for (std::size_t i = 0; i < look_in.size(); ++i) {
    const Prefix& pool = look_in[i]->cidr;
    StoredHandle& other = view->handles[1 + i];
    const bool left = std::any_of(released.begin(), released.end(), [&](const auto& a) { return pool.contains(a.address); });
    const bool listed = std::any_of(handles.begin(), handles.end(), [&](const StoredHandle* h) { return h->id == other.id; });
    if (!left || listed) continue;
    // A block that does not parse may hold what keeps the companion.
    bool kept = std::any_of(view->unreadable.begin(), view->unreadable.end(), [&](const Prefix& c) { return pool.contains(c); });
    for (const auto& [cidr, b] : read) {
      if (!pool.contains(cidr)) continue;
      for (const auto& [_, a] : b.block.allocations()) kept = kept || companion.keeps(a);
    }
    // One the sweep gives back otherwise (its addresses lie outside what was read).
    if (!kept && free_all(other, companions)) handles.push_back(&other);
  }
  if (!main.record && touched.empty()) return std::optional<bool>{true};  // it holds nothing
  std::vector<BlockReaderWriter::BlockRelease> blocks;
  for (const auto& cidr : touched) {
    auto it = read.find(cidr);
    if (it == read.end()) {
      blocks.push_back({cidr, std::nullopt, false});  // gone already: it must stay so
      continue;
    }
    const bool drop = drop_emptied(it->second.block, options);
    blocks.push_back({cidr, std::move(it->second), drop});
  }
  auto committed = blocks_.commit_releases(std::move(blocks), handles);
  if (!committed) return committed.error();
  if (!*committed) return std::optional<bool>{};
  out.released = std::move(released);
  out.companions = std::move(companions);
  return std::optional<bool>{true};
}

Result<std::vector<Address>> Allocator::addresses_of(const std::string& handle) {
  if (auto ok = check_handle(handle); !ok) return ok.error();
  auto stored = blocks_.read_handle(handle);
  if (!stored) return stored.error();
  std::vector<Address> out;
  if (!stored->record) return out;
  for (const auto& [cidr, count] : stored->record->blocks) {
    auto block = blocks_.read_block(cidr);
    if (!block) return block.error();
    if (!*block) continue;
    const auto held = (*block)->block.addresses_of(handle);
    out.insert(out.end(), held.begin(), held.end());
  }
  return out;
}

}  // namespace blockd::ipam
