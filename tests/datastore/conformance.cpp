#include "tests/datastore/conformance.hpp"

namespace blockd::ipam::testing {
namespace {

const std::string kPrefix = "/blockd/v1/test/";

TEST_P(DatastoreConformance, GetOfMissingKeyIsEmpty) {
  auto r = store->get(kPrefix + "missing");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->has_value());
}

TEST_P(DatastoreConformance, CreateOnlyIfAbsentThenCompareAndSwap) {
  auto created = put(kPrefix + "a", "1", 0);
  ASSERT_TRUE(created.ok()) << created.error().message;
  ASSERT_TRUE(created->succeeded);
  auto kv = store->get(kPrefix + "a");
  ASSERT_TRUE(kv.ok() && kv->has_value());
  EXPECT_EQ((*kv)->value, "1");
  EXPECT_EQ((*kv)->mod_revision, created->revision);
  EXPECT_EQ((*kv)->create_revision, created->revision);

  // A second create loses and reports the current value.
  auto again = put(kPrefix + "a", "2", 0);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->succeeded);
  ASSERT_EQ(again->current.size(), 1u);
  EXPECT_EQ(again->current[0].value, "1");

  auto swapped = put(kPrefix + "a", "3", (*kv)->mod_revision);
  ASSERT_TRUE(swapped.ok());
  EXPECT_TRUE(swapped->succeeded);
  EXPECT_GT(swapped->revision, created->revision);
  auto stale = put(kPrefix + "a", "4", (*kv)->mod_revision);
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->succeeded);
  EXPECT_EQ(store->get(kPrefix + "a").value()->value, "3");
  EXPECT_EQ(store->get(kPrefix + "a").value()->create_revision, created->revision);
}

TEST_P(DatastoreConformance, TransactionIsAllOrNothing) {
  ASSERT_TRUE(put(kPrefix + "x", "x", 0)->succeeded);
  auto r = store->commit({{{kPrefix + "x", 0}, {kPrefix + "y", 0}},
                          {Operation::put(kPrefix + "y", "y"), Operation::put(kPrefix + "z", "z")}});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->succeeded);
  EXPECT_FALSE(store->get(kPrefix + "y").value().has_value());
  EXPECT_FALSE(store->get(kPrefix + "z").value().has_value());

  auto x = store->get(kPrefix + "x").value().value();
  auto ok = store->commit({{{kPrefix + "x", x.mod_revision}, {kPrefix + "y", 0}},
                           {Operation::erase(kPrefix + "x"), Operation::put(kPrefix + "y", "y")}});
  ASSERT_TRUE(ok.ok() && ok->succeeded);
  EXPECT_FALSE(store->get(kPrefix + "x").value().has_value());
  EXPECT_EQ(store->get(kPrefix + "y").value()->mod_revision, ok->revision);
}

// An Unchanged compare holds while no key under its prefix (an empty one included) was written
// after its revision, in the same transaction as the key compares, and says when it failed.
TEST_P(DatastoreConformance, UnchangedPrefixGuardsATransaction) {
  const std::string guarded = kPrefix + "guarded/";
  auto at = put(kPrefix + "other", "o", 0)->revision;
  auto empty = store->commit({{}, {Operation::put(kPrefix + "a", "1")}, {{guarded, at}}});
  ASSERT_TRUE(empty.ok() && empty->succeeded);
  ASSERT_TRUE(put(guarded + "r", "r", 0)->succeeded);
  auto stale = store->commit({{{kPrefix + "b", 0}}, {Operation::put(kPrefix + "b", "1")}, {{guarded, at}}});
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->succeeded);
  EXPECT_TRUE(stale->changed_since);
  EXPECT_FALSE(store->get(kPrefix + "b").value().has_value());
  const auto now = store->list(guarded).value().revision;
  ASSERT_TRUE(put(kPrefix + "guarded0", "outside the prefix", 0)->succeeded);
  auto fresh = store->commit({{{kPrefix + "b", 0}}, {Operation::put(kPrefix + "b", "1")}, {{guarded, now}}});
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->succeeded);
  auto lost = store->commit({{{kPrefix + "b", 0}}, {Operation::put(kPrefix + "b", "2")}, {{guarded, now}}});
  ASSERT_TRUE(lost.ok());
  EXPECT_FALSE(lost->succeeded);
  EXPECT_FALSE(lost->changed_since);  // the key compare failed, not the prefix's
}

TEST_P(DatastoreConformance, ListByPrefixInKeyOrder) {
  for (const char* k : {"b/2", "a/1", "b/1", "c", "b0"}) ASSERT_TRUE(put(kPrefix + k, k, 0)->succeeded);
  ASSERT_TRUE(put("/blockd/v1/other", "o", 0)->succeeded);
  auto l = store->list(kPrefix + "b/");
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->kvs.size(), 2u);
  EXPECT_EQ(l->kvs[0].key, kPrefix + "b/1");
  EXPECT_EQ(l->kvs[1].key, kPrefix + "b/2");
  EXPECT_EQ(store->list(kPrefix)->kvs.size(), 5u);
  EXPECT_GE(l->revision, store->get(kPrefix + "b0").value()->mod_revision);
}

TEST_P(DatastoreConformance, ReadManyAnswersEachReadInOrder) {
  for (const char* k : {"b/2", "a/1", "b/1"}) ASSERT_TRUE(put(kPrefix + k, k, 0)->succeeded);
  auto r = store->read_many({{kPrefix + "b/", true, false}, {kPrefix + "missing"}, {kPrefix + "a/1"},
                             {kPrefix + "b/", true, true}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  ASSERT_EQ((*r)[0].kvs.size(), 2u);
  EXPECT_EQ((*r)[0].kvs[0].key, kPrefix + "b/1");
  EXPECT_EQ((*r)[0].kvs[1].value, "b/2");
  EXPECT_TRUE((*r)[1].kvs.empty());
  ASSERT_EQ((*r)[2].kvs.size(), 1u);
  EXPECT_EQ((*r)[2].kvs[0].value, "a/1");
  EXPECT_EQ((*r)[2].kvs[0].mod_revision, store->get(kPrefix + "a/1").value()->mod_revision);
  ASSERT_EQ((*r)[3].kvs.size(), 2u);
  EXPECT_EQ((*r)[3].kvs[1].key, kPrefix + "b/2");
  EXPECT_TRUE((*r)[3].kvs[1].value.empty());  // keys only
  EXPECT_TRUE(store->read_many({})->empty());
  // More reads than etcd takes in one transaction (128 by default).
  auto many = store->read_many(std::vector<Read>(130, Read{kPrefix + "a/1"}));
  ASSERT_TRUE(many.ok()) << many.error().message;
  ASSERT_EQ(many->size(), 130u);
  ASSERT_EQ(many->back().kvs.size(), 1u);
  EXPECT_EQ(many->back().kvs[0].value, "a/1");
}

TEST_P(DatastoreConformance, WatchDeliversChangesAfterARevisionInOrder) {
  auto start = store->list(kPrefix)->revision;
  auto w = store->watch(kPrefix, start);
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_TRUE(put(kPrefix + "k", "v1", 0)->succeeded);
  ASSERT_TRUE(put("/blockd/v1/elsewhere", "e", 0)->succeeded);
  auto rev = store->get(kPrefix + "k").value()->mod_revision;
  ASSERT_TRUE(put(kPrefix + "k", "v2", rev)->succeeded);
  auto k = store->get(kPrefix + "k").value().value();
  ASSERT_TRUE(store->commit({{{kPrefix + "k", k.mod_revision}}, {Operation::erase(kPrefix + "k")}})->succeeded);

  std::vector<WatchEvent> seen;
  for (int i = 0; i < 50 && seen.size() < 3; ++i) {
    auto b = (*w)->next(std::chrono::milliseconds(200));
    ASSERT_TRUE(b.ok()) << b.error().message;
    for (auto& e : b->events) seen.push_back(e);
  }
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].kind, WatchEvent::Kind::Put);
  EXPECT_EQ(seen[0].kv.value, "v1");
  EXPECT_EQ(seen[1].kv.value, "v2");
  EXPECT_EQ(seen[2].kind, WatchEvent::Kind::Delete);
  EXPECT_EQ(seen[2].kv.key, kPrefix + "k");
  EXPECT_LT(seen[0].kv.mod_revision, seen[1].kv.mod_revision);
  EXPECT_LT(seen[1].kv.mod_revision, seen[2].kv.mod_revision);
}

TEST_P(DatastoreConformance, WatchWithNothingNewReturnsEmptyAfterTimeout) {
  auto w = store->watch(kPrefix, store->list(kPrefix)->revision);
  ASSERT_TRUE(w.ok());
  auto b = (*w)->next(std::chrono::milliseconds(30));
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->events.empty());
}

TEST_P(DatastoreConformance, DeletingAMissingKeyChangesNothing) {
  auto before = store->list(kPrefix)->revision;
  auto r = store->commit({{}, {Operation::erase(kPrefix + "nothing")}});
  ASSERT_TRUE(r.ok() && r->succeeded);
  EXPECT_FALSE(store->get(kPrefix + "nothing").value().has_value());
  EXPECT_GE(r->revision, before);
}

}  // namespace
}  // namespace blockd::ipam::testing
