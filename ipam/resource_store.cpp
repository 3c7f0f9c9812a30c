#include "ipam/resource_store.hpp"

#include "ipam/block.hpp"
#include "ipam/block_reader_writer.hpp"
#include "ipam/empty_block_release.hpp"
#include "ipam/keys.hpp"
#include "ipam/pool_selection.hpp"
#include "ipam/resources/resource_codec.hpp"
#include "ipam/resources/validation.hpp"

namespace blockd::ipam {
namespace {

// Every pool write bumps this key under compare-and-swap, so two overlapping pools created at
// the same moment can not both pass the overlap check.
const std::string kPoolsVersion = "/blockd/v1/meta/pools-version";

std::string key_of(const std::string& kind, const std::string& name) { return keys::resource_folder(kind) + name; }

Result<Resource> decode(const KeyValue& kv) {
  auto doc = nlohmann::json::parse(kv.value, nullptr, false);
  if (doc.is_discarded()) return internal(kv.key + ": stored resource is not JSON");
  auto r = resource_from_json(doc);
  if (!r) return r.error().within(kv.key);
  return r;
}

// Calico rejects a pool whose blockSize differs from blocks already claimed in its range (left
// by a deleted pool): nodes would go on allocating in the old-size block.
Status check_existing_blocks(Datastore& store, const IPPool& pool) {
  auto blocks = BlockReaderWriter(store).blocks_within(pool.cidr);
  if (!blocks) return blocks.error();
  const unsigned size = pool.block_size;  // validate() filled the default
  for (const auto& b : *blocks) {
    if (b.length() != size || !pool.cidr.contains(b)) {
      return invalid("IPPool " + pool.name + ": spec.blockSize: " + std::to_string(size) + " conflicts with block " +
                     b.str() + ", already claimed inside " + pool.cidr.str() +
                     " (release its addresses first, or give the pool that block size)");
    }
  }
  return {};
}

}  // namespace

Status ResourceStore::write(Resource resource, WriteMode mode) {
  if (auto ok = validate(resource); !ok) return ok.error();
  if (const auto* peer = std::get_if<BGPPeer>(&resource); peer && !peer->node.empty()) {
    // A peer for one node it could not peer from would only be refused by that node's speaker.
    auto node = get("Node", peer->node);
    if (!node) return node.error();
    if (node->has_value()) {
      if (auto ok = validate_peer_for_node(*peer, std::get<Node>(**node)); !ok) return ok.error();
    }
  }
  const std::string kind = kind_of(resource);
  const std::string name = name_of(resource);
  const std::string key = key_of(kind, name);
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto current = store_.get(key);
    if (!current) return current.error();
    const bool exists = current->has_value();
    if (mode == WriteMode::Create && exists) return conflict(kind + " " + name + " already exists");
    if (mode == WriteMode::Replace && !exists) return not_found(kind + " " + name + " does not exist");
    Transaction txn;
    txn.compares.push_back({key, exists ? (*current)->mod_revision : 0});
    if (auto* pool = std::get_if<IPPool>(&resource)) {
      auto version = store_.get(kPoolsVersion);
      if (!version) return version.error();
      auto others = pools();
      if (!others) return others.error();
      std::optional<IPPool> previous;
      std::vector<IPPool> rest;
      for (auto& p : *others) {
        if (p.name == name) {
          previous = p;
        } else {
          rest.push_back(p);
        }
      }
      if (auto ok = validate_pool_change(*pool, rest, previous ? &*previous : nullptr); !ok) return ok.error();
      if (auto ok = check_existing_blocks(store_, *pool); !ok) return ok.error();
      const std::int64_t vrev = version->has_value() ? (*version)->mod_revision : 0;
      txn.compares.push_back({kPoolsVersion, vrev});
      txn.operations.push_back(Operation::put(kPoolsVersion, std::to_string(vrev + 1)));
    }
    txn.operations.push_back(Operation::put(key, resource_to_json(resource).dump()));
    auto result = store_.commit(txn);
    if (!result) return result.error();
    if (!result->succeeded) continue;
    if (const auto* pool = std::get_if<IPPool>(&resource); pool && exists) return release_deselected(*pool);
    return {};
  }
  return unavailable("writing " + kind + " " + name + ": too many concurrent changes, try again");
}

Status ResourceStore::release_deselected(const IPPool& pool) {
  auto all = nodes();
  if (!all) return all.error();
  std::map<std::string, Labels> labels;
  for (auto& n : *all) labels.emplace(n.name, std::move(n.labels));
  auto released = release_empty_blocks(store_, pool.cidr, [&](const AllocationBlock& b) {
    auto it = labels.find(b.affinity());
    return it != labels.end() && !selects(pool, it->second);
  });
  if (!released) return released.error();
  return {};
}

Status ResourceStore::remove_pool(const std::string& name) {
  const std::string key = key_of("IPPool", name);
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto current = store_.get(key);
    if (!current) return current.error();
    if (!current->has_value()) return not_found("IPPool " + name + " does not exist");
    auto decoded = decode(**current);
    if (!decoded) return decoded.error();
    IPPool pool = std::get<IPPool>(std::move(*decoded));
    std::int64_t revision = (*current)->mod_revision;
    // Calico's IPPool delete: 1. disable, so no allocator claims a new block in it (a crash
    // after this leaves a disabled pool: deleting it again finishes the job).
    if (!pool.disabled) {
      pool.disabled = true;
      auto r = store_.commit({{{key, revision}}, {Operation::put(key, resource_to_json(Resource{pool}).dump())}});
      if (!r) return r.error();
      if (!r->succeeded) continue;
      revision = r->revision;
    }
    // 2. release the affinities of its empty blocks (their routes are withdrawn); blocks that
    // hold addresses keep routing until the release of their last address deletes them.
    auto released = release_empty_blocks(store_, pool.cidr, [](const AllocationBlock&) { return true; });
    if (!released) return released.error();
    // 3. delete the pool, unless someone changed it meanwhile (then start again).
    auto r = store_.commit({{{key, revision}}, {Operation::erase(key)}});
    if (!r) return r.error();
    if (!r->succeeded) continue;
    // A block emptied between step 2 and the delete still saw its pool: give it back now.
    auto late = release_empty_blocks(store_, pool.cidr, [](const AllocationBlock&) { return true; });
    if (!late) return late.error();
    return {};
  }
  return unavailable("deleting IPPool " + name + ": too many concurrent changes, try again");
}

Status ResourceStore::remove(const std::string& kind, const std::string& name) {
  if (kind == "IPPool") return remove_pool(name);
  const std::string key = key_of(kind, name);
  auto current = store_.get(key);
  if (!current) return current.error();
  if (!current->has_value()) return not_found(kind + " " + name + " does not exist");
  auto r = store_.commit({{{key, (*current)->mod_revision}}, {Operation::erase(key)}});
  if (!r) return r.error();
  if (!r->succeeded) return conflict(kind + " " + name + " changed while being deleted; try again");
  if (kind != "Node") return {};
  // Give back the node's empty blocks; each one under its own compare-and-swap.
  auto released = release_empty_blocks_of(store_, name, [](const AllocationBlock&) { return true; });
  if (!released) return released.error();
  return {};
}

Result<std::optional<Resource>> ResourceStore::get(const std::string& kind, const std::string& name) {
  auto kv = store_.get(key_of(kind, name));
  if (!kv) return kv.error();
  if (!kv->has_value()) return std::optional<Resource>{};
  auto r = decode(**kv);
  if (!r) return r.error();
  return std::optional<Resource>{std::move(*r)};
}

Result<std::vector<Resource>> ResourceStore::list(const std::string& kind) {
  auto l = store_.list(keys::resource_folder(kind));
  if (!l) return l.error();
  std::vector<Resource> out;
  for (const auto& kv : l->kvs) {
    auto r = decode(kv);
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  return out;
}

Result<std::vector<IPPool>> ResourceStore::pools() {
  auto l = list("IPPool");
  if (!l) return l.error();
  std::vector<IPPool> out;
  for (auto& r : *l) out.push_back(std::get<IPPool>(std::move(r)));
  return out;
}

Result<std::vector<Node>> ResourceStore::nodes() {
  auto l = list("Node");
  if (!l) return l.error();
  std::vector<Node> out;
  for (auto& r : *l) out.push_back(std::get<Node>(std::move(r)));
  return out;
}

Result<Node> ResourceStore::node(const std::string& name) {
  auto r = get("Node", name);
  if (!r) return r.error();
  if (!r->has_value()) return not_found("node " + name + " does not exist");
  return std::get<Node>(std::move(**r));
}

}  // namespace blockd::ipam
