// The IPAM lifecycle tests' helper (ipam_lifecycle.cpp, ipam_settings.cpp): resources written
// from YAML, allocation and release as the agent and blockctl do them, and the store's blocks.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "ipam/allocator.hpp"
#include "ipam/ipam_check.hpp"
#include "ipam/keys.hpp"
#include "ipam/resource_store.hpp"
#include "ipam/resources/resource_codec.hpp"

namespace blockd::ipam::testing {

inline std::string pool_yaml(const std::string& name, const std::string& cidr, const std::string& extra = "") {
  return "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: " + name + "}\nspec:\n  cidr: " + cidr +
         "\n" + extra;
}

inline std::string node_yaml(const std::string& name, const std::string& rack) {
  return "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: " + name + ", labels: {rack: \"" + rack +
         "\"}}\n";
}

class Lifecycle {
 public:
  explicit Lifecycle(Datastore& store) : store_(store), resources_(store), allocator_(store) {}

  Status apply(const std::string& yaml, WriteMode mode = WriteMode::Apply) {
    auto parsed = parse_resources_yaml(yaml);
    if (!parsed) return parsed.error();
    for (auto& r : *parsed) {
      if (auto ok = resources_.write(r, mode); !ok) return ok;
    }
    return {};
  }
  Result<AllocatedAddress> allocate(const std::string& node, const std::string& handle, Family family = Family::V4,
                                    AddressUse use = AddressUse::Workload) {
    auto n = resources_.node(node);
    if (!n) return n.error();
    auto pools = resources_.pools();
    if (!pools) return pools.error();
    return allocator_.allocate({node, n->labels, *pools}, {handle, family, {}, use});
  }
  void release(const std::string& handle) {
    auto pools = resources_.pools().value();
    ReleaseOptions options;
    options.pools = &pools;
    auto r = allocator_.release_handle(handle, options);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  // The block and whether its node's affinity entry exists.
  std::optional<AllocationBlock> block(const std::string& cidr) {
    auto kv = store_.get(keys::block(Prefix::parse(cidr).value())).value();
    if (!kv) return std::nullopt;
    return AllocationBlock::from_json(kv->value).value();
  }
  bool affine(const std::string& node, const std::string& cidr) {
    return store_.get(keys::affinity(node, Prefix::parse(cidr).value())).value().has_value();
  }
  void expect_check_clean() {
    auto report = check_ipam(store_);
    ASSERT_TRUE(report.ok()) << report.error().message;
    for (const auto& p : report->problems) ADD_FAILURE() << "ipam check: " << p;
  }

  Datastore& store_;
  ResourceStore resources_;
  Allocator allocator_;
};

}  // namespace blockd::ipam::testing
