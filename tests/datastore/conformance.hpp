// The Datastore conformance suite: the same behaviour asserted for every backend (memory,
// SQLite, etcd). A backend's test file instantiates it with a factory:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, DatastoreConformance, ::testing::Values(StoreFactory{...}));
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "ipam/store/datastore.hpp"

namespace blockd::ipam::testing {

struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<Datastore>()> make;
};

inline std::ostream& operator<<(std::ostream& os, const StoreFactory& f) { return os << f.name; }

class DatastoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { store = GetParam().make(); ASSERT_NE(store, nullptr); }
  Result<TransactionResult> put(const std::string& k, const std::string& v, std::int64_t expect_rev) {
    return store->commit({{{k, expect_rev}}, {Operation::put(k, v)}});
  }
  std::unique_ptr<Datastore> store;
};

}  // namespace blockd::ipam::testing
