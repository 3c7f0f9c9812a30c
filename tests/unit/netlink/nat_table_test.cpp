// NatTable's logic against the scripted FakeNft: what it lists, what it applies, how it reports
// nft's refusals. The real libnftables is tested in tests/integration/netlink/nat_test.cpp.
#include "netlink/nat_table.hpp"

#include <gtest/gtest.h>

#include "tests/support/netlink/fake_nft.hpp"

namespace blockd::netlink {
namespace {

Prefix pfx(const char* s) { return Prefix::parse(s).value(); }

// A converged table for pool 10.0.0.0/16 with natOutgoing, as nft 1.0.6 lists it.
const char* kConverged =
    R"({"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},)"
    R"({"table": {"family": "inet", "name": "blockd", "handle": 1}},)"
    R"({"set": {"family": "inet", "name": "all_pools_v4", "table": "blockd", "type": "ipv4_addr", "handle": 2, "flags": ["interval"], "elem": [{"prefix": {"addr": "10.0.0.0", "len": 16}}]}},)"
    R"({"set": {"family": "inet", "name": "nat_pools_v4", "table": "blockd", "type": "ipv4_addr", "handle": 3, "flags": ["interval"], "elem": [{"prefix": {"addr": "10.0.0.0", "len": 16}}]}},)"
    R"({"set": {"family": "inet", "name": "all_pools_v6", "table": "blockd", "type": "ipv6_addr", "handle": 4, "flags": ["interval"]}},)"
    R"({"set": {"family": "inet", "name": "nat_pools_v6", "table": "blockd", "type": "ipv6_addr", "handle": 5, "flags": ["interval"]}},)"
    R"({"chain": {"family": "inet", "table": "blockd", "name": "postrouting", "handle": 1, "type": "nat", "hook": "postrouting", "prio": 100, "policy": "accept"}},)"
    R"({"rule": {"family": "inet", "table": "blockd", "chain": "postrouting", "handle": 6, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@nat_pools_v4"}}, {"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "@all_pools_v4"}}, {"masquerade": null}]}},)"
    R"({"rule": {"family": "inet", "table": "blockd", "chain": "postrouting", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@nat_pools_v6"}}, {"match": {"op": "!=", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "@all_pools_v6"}}, {"masquerade": null}]}}]})";

const NatDesired kPool{{pfx("10.0.0.0/16")}, {pfx("10.0.0.0/16")}};

struct Fixture {
  FakeNft* nft;
  NatTable table;
  Fixture() : Fixture(std::make_unique<FakeNft>()) {}
  explicit Fixture(std::unique_ptr<FakeNft> f) : nft(f.get()), table(std::move(f), "blockd") {}
};

TEST(NatTable, CreatesAMissingTable) {
  Fixture f;
  auto r = f.table.reconcile(kPool);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, NatPlan::Kind::Create);
  EXPECT_EQ(r->elements_added, 2u);
  EXPECT_EQ(r->rules_added, 2u);
  ASSERT_EQ(f.nft->applied.size(), 1u);
  EXPECT_TRUE(f.nft->applied[0].starts_with("add table inet blockd\n")) << f.nft->applied[0];
  EXPECT_EQ(r->summary(), "create: elements +2 -0, rules +2 -0");
}

TEST(NatTable, AConvergedTableIsLeftAlone) {
  Fixture f;
  f.nft->table_json = kConverged;
  auto r = f.table.reconcile(kPool);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->changed());
  EXPECT_TRUE(f.nft->applied.empty());
  // One listing, nothing else.
  EXPECT_EQ(f.nft->commands, std::vector<std::string>{"list table inet blockd"});
}

TEST(NatTable, APoolChangeIsOneElementUpdate) {
  Fixture f;
  f.nft->table_json = kConverged;
  auto r = f.table.reconcile({{pfx("10.0.0.0/16")}, {}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, NatPlan::Kind::Update);
  EXPECT_EQ(r->elements_removed, 1u);
  EXPECT_EQ(f.nft->applied, std::vector<std::string>{"delete element inet blockd nat_pools_v4 { 10.0.0.0/16 }\n"});
}

TEST(NatTable, ARefusalIsReturnedWithTheCommandAfterOneRetry) {
  Fixture f;
  f.nft->refusals = {unavailable("nftables refused `add table inet blockd ...`: Error: Could not process rule: Operation not supported"),
                     unavailable("nftables refused `add table inet blockd ...`: Error: Could not process rule: Operation not supported")};
  auto r = f.table.reconcile(kPool);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Unavailable);
  EXPECT_NE(r.error().message.find("Operation not supported"), std::string::npos);
  EXPECT_EQ(f.nft->refused.size(), 2u);
  EXPECT_TRUE(f.nft->applied.empty());
}

TEST(NatTable, ARaceLostOnceIsRetriedWithAFreshListing) {
  Fixture f;
  f.nft->refusals = {unavailable("nftables refused `...`: Error: File exists")};
  auto r = f.table.reconcile(kPool);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(f.nft->applied.size(), 1u);
  EXPECT_EQ(std::count(f.nft->commands.begin(), f.nft->commands.end(), "list table inet blockd"), 2);
}

TEST(NatTable, AnUnreadableRulesetChangesNothing) {
  Fixture f;
  f.nft->table_json = kConverged;
  f.nft->fail_listing = true;
  auto r = f.table.reconcile({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "nftables refused `list tables inet`: Operation not permitted");
  EXPECT_TRUE(f.nft->applied.empty());
}

TEST(NatTable, ListingThatIsNotJsonIsAnErrorNamingTheCommand) {
  Fixture f;
  f.nft->table_json = "garbage";
  auto r = f.table.reconcile(kPool);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "nftables: list table inet blockd: nft output is not JSON");
  EXPECT_TRUE(f.nft->applied.empty());
}

TEST(NatTable, CleanupDeletesOnlyItsTable) {
  Fixture f;
  f.nft->table_json = kConverged;
  ASSERT_TRUE(f.table.cleanup().ok());
  EXPECT_EQ(f.nft->applied, std::vector<std::string>{"delete table inet blockd"});
}

TEST(NatTable, CleanupOfAnAbsentTableSucceedsWithoutChanges) {
  Fixture f;
  ASSERT_TRUE(f.table.cleanup().ok());
  EXPECT_TRUE(f.nft->applied.empty());
}

TEST(NatTable, EveryCommandNamesOnlyItsOwnTable) {
  Fixture f;
  f.nft->table_json = kConverged;
  ASSERT_TRUE(f.table.reconcile({{pfx("10.1.0.0/16"), pfx("fd00::/48")}, {pfx("fd00::/48")}}).ok());
  ASSERT_TRUE(f.table.cleanup().ok());
  for (const auto& script : f.nft->applied)
    for (std::size_t at = script.find("inet "); at != std::string::npos; at = script.find("inet ", at + 1)) {
      const std::size_t name = at + 5;
      EXPECT_EQ(script.substr(name, script.find_first_of(" \n", name) - name), "blockd") << script;
    }
}

struct NameCase {
  std::string name;
  bool ok;
};

TEST(NatTableName, IsAPlainIdentifier) {
  for (const auto& [name, ok] : std::vector<NameCase>{{"blockd", true}, {"blockd_test2", true},
                                                      {"", false}, {"2blockd", false},
                                                      {"blockd;flush ruleset", false},
                                                      {"a b", false}, {std::string(65, 'a'), false}})
    EXPECT_EQ(validate_table_name(name).ok(), ok) << name;
  EXPECT_EQ(validate_table_name("a b").error().message,
            "nftables table name a b may hold only letters, digits and '_'");
  EXPECT_FALSE(NatTable::open("x;y").ok());
}

}  // namespace
}  // namespace blockd::netlink
