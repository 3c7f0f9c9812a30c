// The cluster-wide IPAM settings on every backend (memory, SQLite, etcd: the DatastoreConformance
// instantiations): IPReservation addresses and IPv6 Subnet-Router anycast addresses are never
// handed out, whatever the path (affine block, new block, borrowed, a named pool, a tunnel
// address); IPAMConfiguration's strictAffinity, maxBlocksPerHost and autoAllocateBlocks.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "tests/datastore/conformance.hpp"
#include "tests/datastore/lifecycle.hpp"

namespace blockd::ipam::testing {
namespace {

std::string reservation_yaml(const std::string& name, const std::string& cidrs) {
  return "apiVersion: projectcalico.org/v3\nkind: IPReservation\nmetadata: {name: " + name +
         "}\nspec:\n  reservedCIDRs: [" + cidrs + "]\n";
}

std::string ipam_config_yaml(const std::string& spec) {
  return "apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata: {name: default}\nspec: {" + spec +
         "}\n";
}

struct ReservationCase {
  std::string name;
  std::string pool;         // pool p's cidr and spec lines
  std::string reserved;     // reservedCIDRs ("" = no IPReservation)
  Family family;
  AddressUse use;
  std::string n2_first;     // allocated to n2 before n1 asks ("" = nothing)
  std::string expected;     // n1's first address
  bool borrowed = false;
};

TEST_P(DatastoreConformance, ReservedAddressesAreNeverHandedOut) {
  const std::vector<ReservationCase> cases = {
      {"workload, affine block", "10.0.0.0/24", "10.0.0.0/30", Family::V4, AddressUse::Workload, "", "10.0.0.4"},
      {"tunnel address", "10.0.0.0/24", "10.0.0.0/30", Family::V4, AddressUse::Tunnel, "", "10.0.0.4"},
      {"bare address", "10.0.0.0/24", "10.0.0.0, 10.0.0.2", Family::V4, AddressUse::Workload, "", "10.0.0.1"},
      {"a wholly reserved block is passed over", "10.0.0.0/24", "10.0.0.0/26", Family::V4, AddressUse::Workload, "",
       "10.0.0.64"},
      {"borrowed", "10.0.0.0/26", "10.0.0.1/32", Family::V4, AddressUse::Workload, "10.0.0.0", "10.0.0.2", true},
      {"IPv6 ordinal 0 (Subnet-Router anycast)", "fd00:10::/120\n  blockSize: 122", "", Family::V6,
       AddressUse::Workload, "", "fd00:10::1"},
      {"IPv6 with a reservation", "fd00:10::/120\n  blockSize: 122", "fd00:10::1", Family::V6, AddressUse::Workload,
       "", "fd00:10::2"},
      {"IPv6 block not on a /64 boundary keeps its ordinal 0", "fd00:10::40/122\n  blockSize: 122", "", Family::V6,
       AddressUse::Workload, "", "fd00:10::40"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto fresh = GetParam().make();
    Lifecycle l(*fresh);
    ASSERT_TRUE(l.apply(node_yaml("n1", "0") + "---\n" + node_yaml("n2", "1")).ok());
    if (!c.reserved.empty()) { ASSERT_TRUE(l.apply(reservation_yaml("r", c.reserved)).ok()); }
    ASSERT_TRUE(l.apply(pool_yaml("p", c.pool)).ok());
    if (!c.n2_first.empty()) { ASSERT_EQ(l.allocate("n2", "h2", c.family).value().address.str(), c.n2_first); }
    auto a = l.allocate("n1", "h1", c.family, c.use);
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(a->address.str(), c.expected);
    EXPECT_EQ(a->borrowed, c.borrowed);
    l.expect_check_clean();
  }
}

TEST_P(DatastoreConformance, AFullyReservedRemainderIsExhaustionNotAReservedAddress) {
  Lifecycle l(*store);
  ASSERT_TRUE(l.apply(node_yaml("n1", "0")).ok());
  ASSERT_TRUE(l.apply(reservation_yaml("r", "10.0.0.0/30")).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/29", "  blockSize: 29\n")).ok());
  std::set<std::string> got;
  for (int i = 0; i < 4; ++i) got.insert(l.allocate("n1", "h" + std::to_string(i)).value().address.str());
  EXPECT_EQ(got, (std::set<std::string>{"10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"}));
  auto more = l.allocate("n1", "h4");
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.error().code, ErrorCode::Exhausted);
  EXPECT_NE(more.error().message.find("no free address for node n1 in p"), std::string::npos) << more.error().message;
  l.expect_check_clean();
}

struct ConfigCase {
  std::string name;
  std::string config;  // the IPAMConfiguration's spec
  std::string error;   // what n1's 5th allocation fails with ("": it succeeds)
  bool borrowed = false;  // from n2's block; else from a second block of n1's
  std::size_t n1_blocks = 1;
};

TEST_P(DatastoreConformance, IpamConfigurationLimitsClaimsAndBorrowing) {
  // Four /30 blocks; n2 claims one first; n1 fills one with four addresses and asks for a fifth.
  const std::vector<ConfigCase> cases = {
      {"no limit: a second block", "", "", false, 2},
      {"maxBlocksPerHost 2: a second block", "maxBlocksPerHost: 2", "", false, 2},
      {"maxBlocksPerHost 1: borrows", "maxBlocksPerHost: 1", "", true, 1},
      {"maxBlocksPerHost 1 and strictAffinity: Calico's block limit error", "maxBlocksPerHost: 1, strictAffinity: true",
       "cannot allocate new block due to per host block limit: node n1 holds 1 block(s), IPAMConfiguration default "
       "has maxBlocksPerHost 1 and strictAffinity (no borrowing), and they are full"},
      {"autoAllocateBlocks false: borrows", "autoAllocateBlocks: false", "", true, 1},
      {"autoAllocateBlocks false and strictAffinity: fails", "autoAllocateBlocks: false, strictAffinity: true",
       "the node's blocks are full and IPAMConfiguration default has autoAllocateBlocks false; strict affinity"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto fresh = GetParam().make();
    Lifecycle l(*fresh);
    ASSERT_TRUE(l.apply(node_yaml("n1", "0") + "---\n" + node_yaml("n2", "1")).ok());
    ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/28", "  blockSize: 30\n")).ok());
    const auto n2_block = l.allocate("n2", "n2-h").value().block;
    const auto first = l.allocate("n1", "h0").value();
    ASSERT_FALSE(first.borrowed);
    for (int i = 1; i < 4; ++i) ASSERT_EQ(l.allocate("n1", "h" + std::to_string(i)).value().block, first.block);
    if (!c.config.empty()) { ASSERT_TRUE(l.apply(ipam_config_yaml(c.config)).ok()); }
    auto a = l.allocate("n1", "h4");
    if (c.error.empty()) {
      ASSERT_TRUE(a.ok()) << a.error().message;
      EXPECT_EQ(a->borrowed, c.borrowed);
      if (c.borrowed) {
        EXPECT_EQ(a->block, n2_block);
      } else {
        EXPECT_NE(a->block, first.block);
        EXPECT_NE(a->block, n2_block);
      }
    } else {
      ASSERT_FALSE(a.ok()) << a->address.str();
      EXPECT_EQ(a.error().code, ErrorCode::Exhausted);
      EXPECT_NE(a.error().message.find(c.error), std::string::npos) << a.error().message;
    }
    EXPECT_EQ(l.store_.list(keys::node_affinities("n1")).value().kvs.size(), c.n1_blocks);
    l.expect_check_clean();
  }
}

TEST_P(DatastoreConformance, StrictAffinityForbidsBorrowing) {
  for (bool strict : {false, true}) {
    SCOPED_TRACE(strict ? "strict" : "not strict");
    auto fresh = GetParam().make();
    Lifecycle l(*fresh);
    ASSERT_TRUE(l.apply(node_yaml("n1", "0") + "---\n" + node_yaml("n2", "1")).ok());
    ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/30", "  blockSize: 30\n")).ok());  // one block
    ASSERT_TRUE(l.allocate("n2", "h2").ok());
    ASSERT_TRUE(l.apply(ipam_config_yaml(strict ? "strictAffinity: true" : "strictAffinity: false")).ok());
    auto a = l.allocate("n1", "h1");
    EXPECT_EQ(a.ok(), !strict);
    if (a.ok()) { EXPECT_TRUE(a->borrowed); }
    if (!a.ok()) { EXPECT_NE(a.error().message.find("strict affinity: no borrowing"), std::string::npos); }
    l.expect_check_clean();
  }
}

// The allocator keeps the settings between allocations (ipam_settings_reader.hpp): a reservation
// another client writes after they were read is honoured by the next allocation all the same,
// and a reservation deleted since frees its addresses once nothing else is free.
TEST_P(DatastoreConformance, SettingsKeptBetweenAllocationsFollowTheStore) {
  Lifecycle l(*store), other(*store);
  ASSERT_TRUE(l.apply(node_yaml("n1", "0")).ok());
  ASSERT_TRUE(l.apply(reservation_yaml("r0", "10.0.0.7")).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/29", "  blockSize: 29\n")).ok());
  ASSERT_EQ(l.allocate("n1", "h0").value().address.str(), "10.0.0.0");  // settings read and kept
  ASSERT_TRUE(other.apply(reservation_yaml("r1", "10.0.0.1, 10.0.0.2")).ok());
  EXPECT_EQ(l.allocate("n1", "h1").value().address.str(), "10.0.0.3");
  for (int i = 2; i < 5; ++i) ASSERT_TRUE(l.allocate("n1", "h" + std::to_string(i)).ok());  // .4 .5 .6
  ASSERT_TRUE(other.resources_.remove("IPReservation", "r1").ok());
  std::set<std::string> got;
  for (int i = 5; i < 7; ++i) got.insert(l.allocate("n1", "h" + std::to_string(i)).value().address.str());
  EXPECT_EQ(got, (std::set<std::string>{"10.0.0.1", "10.0.0.2"}));
  auto more = l.allocate("n1", "h7");  // 10.0.0.7 is still reserved
  ASSERT_FALSE(more.ok()) << more->address.str();
  EXPECT_EQ(more.error().code, ErrorCode::Exhausted);
  l.expect_check_clean();
}

// 8 allocators, each for its own node, with reservations and maxBlocksPerHost 2 in force while
// a second reservation is added: no reserved address of the first is ever held, no address is
// held twice, no node holds more than 2 blocks, ipam check is clean.
TEST_P(DatastoreConformance, ConcurrentAllocatorsHonourReservationsAndTheBlockLimit) {
  Lifecycle l(*store);
  std::string nodes;
  for (int n = 0; n < 8; ++n) nodes += (n ? "---\n" : "") + node_yaml("n" + std::to_string(n), "0");
  ASSERT_TRUE(l.apply(nodes).ok());
  ASSERT_TRUE(l.apply(reservation_yaml("r1", "10.0.0.0/28, 10.0.1.0/28")).ok());
  ASSERT_TRUE(l.apply(ipam_config_yaml("maxBlocksPerHost: 2")).ok());
  ASSERT_TRUE(l.apply(pool_yaml("p", "10.0.0.0/22", "  blockSize: 28\n")).ok());
  std::mutex mu;
  std::vector<std::string> held;
  std::vector<std::thread> threads;
  for (int n = 0; n < 8; ++n) {
    threads.emplace_back([&, n] {
      Lifecycle mine(*store);
      const std::string node = "n" + std::to_string(n);
      for (int i = 0; i < 20; ++i) {
        auto a = mine.allocate(node, node + "-" + std::to_string(i));
        ASSERT_TRUE(a.ok()) << a.error().message;
        std::lock_guard lock(mu);
        held.push_back(a->address.str());
      }
    });
  }
  ASSERT_TRUE(l.apply(reservation_yaml("r2", "10.0.3.240/28")).ok());
  for (auto& t : threads) t.join();
  const std::set<std::string> unique(held.begin(), held.end());
  EXPECT_EQ(unique.size(), held.size());
  const auto r1a = Prefix::parse("10.0.0.0/28").value(), r1b = Prefix::parse("10.0.1.0/28").value();
  for (const auto& a : held) {
    const Address address = Address::parse(a).value();
    EXPECT_FALSE(r1a.contains(address) || r1b.contains(address)) << a;
  }
  for (int n = 0; n < 8; ++n) {
    EXPECT_LE(store->list(keys::node_affinities("n" + std::to_string(n))).value().kvs.size(), 2u);
  }
  l.expect_check_clean();
}

}  // namespace
}  // namespace blockd::ipam::testing
