#include "ipam/resource_store.hpp"

#include "ipam/block.hpp"
#include "ipam/keys.hpp"
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
      const std::int64_t vrev = version->has_value() ? (*version)->mod_revision : 0;
      txn.compares.push_back({kPoolsVersion, vrev});
      txn.operations.push_back(Operation::put(kPoolsVersion, std::to_string(vrev + 1)));
    }
    txn.operations.push_back(Operation::put(key, resource_to_json(resource).dump()));
    auto result = store_.commit(txn);
    if (!result) return result.error();
    if (result->succeeded) return {};
  }
  return unavailable("writing " + kind + " " + name + ": too many concurrent changes, try again");
}

Status ResourceStore::remove(const std::string& kind, const std::string& name) {
  const std::string key = key_of(kind, name);
  auto current = store_.get(key);
  if (!current) return current.error();
  if (!current->has_value()) return not_found(kind + " " + name + " does not exist");
  auto r = store_.commit({{{key, (*current)->mod_revision}}, {Operation::erase(key)}});
  if (!r) return r.error();
  if (!r->succeeded) return conflict(kind + " " + name + " changed while being deleted; try again");
  if (kind != "Node") return {};
  // Give back the node's empty blocks; each one under its own compare-and-swap.
  auto index = store_.list(keys::node_affinities(name));
  if (!index) return index.error();
  for (const auto& kv : index->kvs) {
    const std::string block_key = keys::kBlocks + kv.key.substr(keys::node_affinities(name).size());
    auto block_kv = store_.get(block_key);
    if (!block_kv) return block_kv.error();
    if (!block_kv->has_value()) {
      (void)store_.commit({{}, {Operation::erase(kv.key)}});
      continue;
    }
    auto block = AllocationBlock::from_json((*block_kv)->value);
    if (!block || !block->empty()) continue;
    auto done = store_.commit({{{block_key, (*block_kv)->mod_revision}},
                               {Operation::erase(block_key), Operation::erase(kv.key)}});
    if (!done) return done.error();
  }
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
