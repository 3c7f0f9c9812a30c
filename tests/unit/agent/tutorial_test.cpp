// The reference tutorial (assign-ip-addresses-topology.md) replayed through blockctl's commands
// on a store: delete the default pool, label four nodes in two racks, create the rack pools,
// start five workloads, and check every address against its rack's pool and block affinity.
#include <gtest/gtest.h>

#include <sstream>

#include "agent/blockctl/commands.hpp"
#include "ipam/block.hpp"
#include "ipam/keys.hpp"
#include "ipam/store/memory_store.hpp"

namespace blockd::agent::blockctl {
namespace {

using namespace blockd::ipam;

const std::string kExamples = std::string(BLOCKD_SOURCE_DIR) + "/examples/rack-tutorial/";

void ok(const Status& s) { ASSERT_TRUE(s.ok()) << s.error().message; }

TEST(RackTutorial, WorkloadsGetAddressesFromTheirRacksPool) {
  MemoryStore store;
  std::ostringstream out;
  ok(apply_file(store, kExamples + "default-pool.yaml", WriteMode::Create, out));
  ok(apply_file(store, kExamples + "nodes.yaml", WriteMode::Create, out));

  // Step 1: the default /16 covers both racks' pools, so it must go first.
  auto overlap = apply_file(store, kExamples + "rack-0-ippool.yaml", WriteMode::Create, out);
  ASSERT_FALSE(overlap.ok());
  EXPECT_NE(overlap.error().message.find("default-ipv4-ippool"), std::string::npos) << overlap.error().message;
  ok(delete_named(store, "ippools", "default-ipv4-ippool", false, out));

  // Step 2: label the nodes.
  for (auto [node, rack] : {std::pair{"kube-node-0", "0"}, {"kube-node-1", "0"}, {"kube-node-2", "1"}, {"kube-node-3", "1"}}) {
    ok(label_node(store, node, {std::string("rack=") + rack}, false, out));
  }
  // Step 3: a pool per rack.
  ok(apply_file(store, kExamples + "rack-0-ippool.yaml", WriteMode::Create, out));
  ok(apply_file(store, kExamples + "rack-1-ippool.yaml", WriteMode::Create, out));

  std::ostringstream wide;
  ok(get(store, "IPPool", std::nullopt, OutputFormat::Wide, wide));
  EXPECT_EQ(wide.str(),
            "NAME            CIDR             NAT    IPIPMODE   VXLANMODE   DISABLED   SELECTOR\n"
            "rack-0-ippool   192.168.0.0/24   true   Always     Never       false      rack == \"0\"\n"
            "rack-1-ippool   192.168.1.0/24   true   Always     Never       false      rack == \"1\"\n");

  // Step 4: five workloads, at least one on every node.
  const std::vector<std::pair<std::string, std::string>> workloads = {
      {"nginx-prx4z", "kube-node-0"}, {"nginx-s7qw6", "kube-node-1"}, {"nginx-w7r7g", "kube-node-2"},
      {"nginx-62lnf", "kube-node-3"}, {"nginx-pnsvv", "kube-node-2"}};
  const auto rack0 = Prefix::parse("192.168.0.0/24").value();
  const auto rack1 = Prefix::parse("192.168.1.0/24").value();
  for (const auto& [workload, node] : workloads) {
    std::ostringstream addr;
    ok(ipam_allocate(store, {node, workload, {}, false}, addr));
    auto address = Address::parse(addr.str().substr(0, addr.str().size() - 1));
    ASSERT_TRUE(address.ok()) << addr.str();
    const bool in_rack0 = node == "kube-node-0" || node == "kube-node-1";
    EXPECT_TRUE((in_rack0 ? rack0 : rack1).contains(*address)) << workload << " on " << node << " got " << address->str();
    // The block holding it is affine to the node that runs the workload.
    auto kv = store.get(keys::block(Prefix::make(*address, 26))).value();
    ASSERT_TRUE(kv.has_value());
    EXPECT_EQ(AllocationBlock::from_json(kv->value)->affinity(), node);
  }
  std::ostringstream check;
  ok(ipam_check(store, check));
  EXPECT_NE(check.str().find("5 allocated addresses"), std::string::npos) << check.str();
}

TEST(RackTutorial, ANodeInARackWithNoPoolGetsANamedError) {
  MemoryStore store;
  std::ostringstream out;
  ok(apply_file(store, kExamples + "nodes.yaml", WriteMode::Create, out));
  ok(apply_file(store, kExamples + "rack-0-ippool.yaml", WriteMode::Create, out));
  ok(label_node(store, "kube-node-3", {"rack=5"}, false, out));
  const auto before = store.list(kKeyRoot)->revision;
  auto r = ipam_allocate(store, {"kube-node-3", "w", {}, false}, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "no IPv4 IP pool selects node kube-node-3 (labels: rack=5); rack-0-ippool: selector rack == \"0\" does not match");
  EXPECT_EQ(store.list(kKeyRoot)->revision, before);  // nothing written
  std::ostringstream check;
  ok(ipam_check(store, check));
  EXPECT_NE(check.str().find("warning: node kube-node-3 (labels: rack=5) is selected by no enabled IP pool"),
            std::string::npos)
      << check.str();
}

TEST(Label, RefusesToChangeAValueWithoutOverwrite) {
  MemoryStore store;
  std::ostringstream out;
  ok(apply_file(store, kExamples + "nodes.yaml", WriteMode::Create, out));
  ok(label_node(store, "kube-node-0", {"rack=0"}, false, out));
  auto r = label_node(store, "kube-node-0", {"rack=1"}, false, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "node kube-node-0: label rack already has a value (0); use --overwrite to change it");
  ok(label_node(store, "kube-node-0", {"rack=1"}, true, out));
  ok(label_node(store, "kube-node-0", {"rack-"}, false, out));
  EXPECT_FALSE(label_node(store, "kube-node-0", {"rack-"}, false, out).ok());
  EXPECT_EQ(label_node(store, "nope", {"a=b"}, false, out).error().code, ErrorCode::NotFound);
}

}  // namespace
}  // namespace blockd::agent::blockctl

namespace blockd::agent::blockctl {
namespace {

TEST(DatastoreMigrate, CopiesEverythingAndRefusesANonEmptyTarget) {
  using namespace blockd::ipam;
  MemoryStore from, to;
  std::ostringstream out;
  ok(apply_file(from, kExamples + "nodes.yaml", WriteMode::Create, out));
  ok(apply_file(from, kExamples + "rack-0-ippool.yaml", WriteMode::Create, out));
  ok(label_node(from, "kube-node-0", {"rack=0"}, false, out));
  ok(ipam_allocate(from, {"kube-node-0", "w1", {}, false}, out));
  std::ostringstream migrated;
  ok(datastore_migrate(from, to, false, migrated));
  EXPECT_NE(migrated.str().find("No problems found"), std::string::npos) << migrated.str();
  auto a = from.list(kKeyRoot).value().kvs;
  auto b = to.list(kKeyRoot).value().kvs;
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].value, b[i].value);
  }
  auto again = datastore_migrate(from, to, false, out);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("--overwrite"), std::string::npos);
  ok(datastore_migrate(from, to, true, out));
}

}  // namespace
}  // namespace blockd::agent::blockctl
