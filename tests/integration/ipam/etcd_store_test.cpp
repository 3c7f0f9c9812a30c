// The etcd backend against real etcd 3.4 members on loopback: the Datastore conformance suite,
// then what only a distributed store has to get right (binary keys, compaction, a member
// killed and restarted, fail-over across a three-member cluster).
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <thread>

#include "ipam/store/base64.hpp"
#include "ipam/store/etcd_store.hpp"
#include "tests/datastore/conformance.hpp"
#include "tests/integration/ipam/etcd_cluster.hpp"

namespace blockd::ipam::testing {
namespace {

using namespace std::chrono_literals;

// One member shared by the tests of a process, started on first use.
EtcdCluster* shared = nullptr;
EtcdCluster& shared_etcd() {
  if (shared == nullptr) shared = new EtcdCluster(1);
  return *shared;
}

class SharedEtcdTeardown : public ::testing::Environment {
 public:
  void TearDown() override {
    delete shared;
    shared = nullptr;
  }
};

// Each test starts from an empty key space.
std::unique_ptr<EtcdStore> fresh_store(const std::string& url) {
  auto store = EtcdStore::open(url);
  if (!store) throw std::runtime_error(store.error().message);
  auto gw = EtcdGateway::connect(parse_etcd_url(url).value()).value();
  auto wiped = gw->call("/v3/kv/deleterange", {{"key", base64_encode(std::string(1, '\0'))}, {"range_end", base64_encode(std::string(1, '\0'))}},
                        Resend::Safe);
  if (!wiped) throw std::runtime_error(wiped.error().message);
  return std::move(*store);
}

INSTANTIATE_TEST_SUITE_P(Etcd, DatastoreConformance,
                         ::testing::Values(StoreFactory{"etcd", [] {
                           return std::unique_ptr<Datastore>(fresh_store(shared_etcd().url()));
                         }}),
                         [](const auto& info) { return info.param.name; });

TEST(EtcdStore, OpenDatastoreSelectsEtcdByUrl) {
  auto store = open_datastore(shared_etcd().url());
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ((*store)->describe(), shared_etcd().url());
  ASSERT_TRUE((*store)->commit({{}, {Operation::put("/blockd/v1/by-url", "x")}}).ok());
  EXPECT_EQ((*store)->get("/blockd/v1/by-url").value()->value, "x");
}

TEST(EtcdStore, KeysAndValuesAreBytes) {
  auto store = fresh_store(shared_etcd().url());
  const std::string key = std::string("/blockd/v1/bin/\xff\x00\x01", 18);
  const std::string value = std::string("\x00\xfe\"{}\n", 6);
  ASSERT_TRUE(store->commit({{{key, 0}}, {Operation::put(key, value)}})->succeeded);
  auto kv = store->get(key);
  ASSERT_TRUE(kv.ok() && kv->has_value());
  EXPECT_EQ((*kv)->key, key);
  EXPECT_EQ((*kv)->value, value);
  // A prefix ending in 0xff still bounds its range.
  ASSERT_TRUE(store->commit({{}, {Operation::put("/blockd/v1/bin0", "after")}})->succeeded);
  auto l = store->list(std::string("/blockd/v1/bin/\xff", 16));
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->kvs.size(), 1u);
  EXPECT_EQ(l->kvs[0].value, value);
}

TEST(EtcdStore, ListsLargerThanAnHttpLibraryDefaultLimitArriveWhole) {
  auto store = fresh_store(shared_etcd().url());
  const std::string big(1000 * 1000, 'v');  // below etcd's 1.5 MiB request limit
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(store->commit({{}, {Operation::put("/blockd/v1/big/" + std::to_string(i), big)}}).ok());
  }
  auto l = store->list("/blockd/v1/big/");  // over 9 MB of base64 in one answer
  ASSERT_TRUE(l.ok()) << l.error().message;
  ASSERT_EQ(l->kvs.size(), 7u);
  for (const auto& kv : l->kvs) EXPECT_EQ(kv.value, big);
}

TEST(EtcdStore, LostCompareReturnsEveryComparedKeyInOneAnswer) {
  auto store = fresh_store(shared_etcd().url());
  const std::string a = "/blockd/v1/t/a", b = "/blockd/v1/t/b", missing = "/blockd/v1/t/missing";
  ASSERT_TRUE(store->commit({{}, {Operation::put(a, "A"), Operation::put(b, "B")}})->succeeded);
  auto r = store->commit({{{a, 1}, {b, 0}, {missing, 0}}, {Operation::put(a, "lost")}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->succeeded);
  ASSERT_EQ(r->current.size(), 2u);
  EXPECT_EQ(r->current[0].key, a);
  EXPECT_EQ(r->current[0].value, "A");
  EXPECT_EQ(r->current[1].key, b);
  EXPECT_EQ(r->current[1].value, "B");
  EXPECT_EQ(store->get(a).value()->value, "A");
}

TEST(EtcdStore, RefusedTransactionIsAnInvalidErrorNamingTheCause) {
  auto store = fresh_store(shared_etcd().url());
  auto r = store->commit({{}, {Operation::put("/blockd/v1/dup", "1"), Operation::put("/blockd/v1/dup", "2")}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Invalid);
  EXPECT_NE(r.error().message.find("duplicate key"), std::string::npos) << r.error().message;
}

TEST(EtcdStore, ConcurrentCompareAndSwapFromManyThreadsLosesNoIncrement) {
  auto store = fresh_store(shared_etcd().url());
  const std::string counter = "/blockd/v1/counter";
  ASSERT_TRUE(store->commit({{{counter, 0}}, {Operation::put(counter, "0")}})->succeeded);
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto kv = store->get(counter).value().value();
      for (int done = 0; done < kEach;) {
        auto r = store->commit({{{counter, kv.mod_revision}}, {Operation::put(counter, std::to_string(std::stoi(kv.value) + 1))}});
        if (!r) {
          ++errors;
          return;
        }
        if (r->succeeded) {
          ++done;
          kv = store->get(counter).value().value();
        } else {
          kv = r->current.at(0);  // the failure branch carries the winner's value: no extra read
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(store->get(counter).value()->value, std::to_string(kThreads * kEach));
}

TEST(EtcdStore, WatchFromACompactedRevisionSaysCompacted) {
  auto store = fresh_store(shared_etcd().url());
  const auto start = store->list("/blockd/v1/")->revision;
  std::int64_t last = 0;
  for (int i = 0; i < 5; ++i) last = store->commit({{}, {Operation::put("/blockd/v1/c", std::to_string(i))}})->revision;
  auto gw = EtcdGateway::connect(parse_etcd_url(shared_etcd().url()).value()).value();
  ASSERT_TRUE(gw->call("/v3/kv/compaction", {{"revision", std::to_string(last)}}, Resend::Safe).ok());

  auto w = store->watch("/blockd/v1/", start);
  ASSERT_TRUE(w.ok());
  auto b = (*w)->next(2s);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::NotFound);
  EXPECT_NE(b.error().message.find("compacted"), std::string::npos) << b.error().message;

  // Listing again and watching from the listed revision works.
  auto relisted = store->list("/blockd/v1/");
  auto w2 = store->watch("/blockd/v1/", relisted->revision);
  ASSERT_TRUE(store->commit({{}, {Operation::put("/blockd/v1/c", "after")}})->succeeded);
  std::vector<WatchEvent> seen;
  for (int i = 0; i < 20 && seen.empty(); ++i) {
    auto got = (*w2)->next(200ms);
    ASSERT_TRUE(got.ok()) << got.error().message;
    seen = got->events;
  }
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kv.value, "after");
}

TEST(EtcdStore, UnreachableEndpointsGiveAnUnavailableErrorNamingThem) {
  const int p1 = EtcdCluster::free_port(), p2 = EtcdCluster::free_port();
  const std::string url = "etcd://127.0.0.1:" + std::to_string(p1) + ",127.0.0.1:" + std::to_string(p2);
  auto store = EtcdStore::open(url);
  ASSERT_TRUE(store.ok());
  auto r = (*store)->get("/blockd/v1/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Unavailable);
  for (int p : {p1, p2}) {
    EXPECT_NE(r.error().message.find("127.0.0.1:" + std::to_string(p) + ": connect"), std::string::npos) << r.error().message;
  }
  EXPECT_NE(r.error().message.find("refused"), std::string::npos) << r.error().message;
}

// Collects watch events until `want` arrived, tolerating Unavailable errors (counted).
std::vector<WatchEvent> collect(Watch& w, std::size_t want, int& unavailable_errors) {
  std::vector<WatchEvent> seen;
  for (int i = 0; i < 100 && seen.size() < want; ++i) {
    auto b = w.next(200ms);
    if (!b) {
      EXPECT_EQ(b.error().code, ErrorCode::Unavailable) << b.error().message;
      ++unavailable_errors;
      std::this_thread::sleep_for(100ms);
      continue;
    }
    for (auto& e : b->events) seen.push_back(e);
  }
  return seen;
}

TEST(EtcdStoreFailure, KilledEtcdGivesClearErrorsThenEverythingResumesAfterRestart) {
  EtcdCluster etcd(1);
  auto store = EtcdStore::open(etcd.url()).value();
  auto watcher = EtcdStore::open(etcd.url()).value();
  auto w = watcher->watch("/blockd/v1/", store->list("/blockd/v1/")->revision).value();
  ASSERT_TRUE(store->commit({{{"/blockd/v1/a", 0}}, {Operation::put("/blockd/v1/a", "1")}})->succeeded);
  int errors = 0;
  auto first = collect(*w, 1, errors);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].kv.value, "1");

  etcd.stop(0, SIGKILL);
  auto got = store->get("/blockd/v1/a");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::Unavailable);
  EXPECT_NE(got.error().message.find(etcd.endpoint(0)), std::string::npos) << got.error().message;
  auto put = store->commit({{}, {Operation::put("/blockd/v1/b", "x")}});
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::Unavailable);
  auto down = w->next(200ms);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, ErrorCode::Unavailable);
  EXPECT_NE(down.error().message.find("watch on /blockd/v1/"), std::string::npos) << down.error().message;

  etcd.start(0);
  etcd.wait_ready(0);
  // A write the watch missed while its connection was down is delivered after it resumes.
  auto a = store->get("/blockd/v1/a");
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->value, "1");
  ASSERT_TRUE(store->commit({{{"/blockd/v1/a", (*a)->mod_revision}}, {Operation::put("/blockd/v1/a", "2")}})->succeeded);
  auto resumed = collect(*w, 1, errors);
  ASSERT_EQ(resumed.size(), 1u);  // exactly the missed change: nothing lost, nothing repeated
  EXPECT_EQ(resumed[0].kv.value, "2");
}

TEST(EtcdStoreFailure, WatchResumesOnAnotherMemberWhenItsConnectionDrops) {
  EtcdCluster etcd(3);
  const int leader = etcd.leader();
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  // A follower first: the watch connects there, and stopping it needs no election.
  auto store = EtcdStore::open("etcd://" + etcd.endpoint(follower) + "," + etcd.endpoint(leader)).value();
  auto w = store->watch("/blockd/v1/", store->list("/blockd/v1/")->revision).value();
  ASSERT_TRUE(store->commit({{}, {Operation::put("/blockd/v1/k", "1")}})->succeeded);
  int errors = 0;
  ASSERT_EQ(collect(*w, 1, errors).size(), 1u);
  etcd.stop(follower);
  ASSERT_TRUE(store->commit({{}, {Operation::put("/blockd/v1/k", "2")}})->succeeded);
  auto after_first = collect(*w, 1, errors);
  ASSERT_EQ(after_first.size(), 1u);
  EXPECT_EQ(after_first[0].kv.value, "2");
  EXPECT_EQ(errors, 0);  // resumed on another member within the same call
}

TEST(EtcdStoreFailure, AWatchOnAMemberThatLostItsClusterEndsAndResumesElsewhere) {
  EtcdCluster etcd(3);
  auto store = EtcdStore::open(etcd.url()).value();  // member 0 first: the watch connects there
  auto w = store->watch("/blockd/v1/", store->list("/blockd/v1/")->revision).value();
  ASSERT_TRUE(store->commit({{}, {Operation::put("/blockd/v1/k", "1")}})->succeeded);
  int errors = 0;
  ASSERT_EQ(collect(*w, 1, errors).size(), 1u);
  // Member 0 alone has no quorum, so no leader: a watch there would silently see nothing.
  etcd.stop(1);
  etcd.stop(2);
  std::optional<Error> ended;
  for (int i = 0; i < 150 && !ended; ++i) {
    auto b = w->next(200ms);
    if (!b) ended = b.error();
  }
  ASSERT_TRUE(ended.has_value()) << "the watch on a member without a leader never ended";
  EXPECT_EQ(ended->code, ErrorCode::Unavailable);
  EXPECT_NE(ended->message.find("no leader"), std::string::npos) << ended->message;

  etcd.start(1);
  etcd.start(2);
  etcd.wait_ready(1);
  etcd.wait_ready(2);
  ASSERT_TRUE(store->commit({{}, {Operation::put("/blockd/v1/k", "2")}}).ok());
  auto resumed = collect(*w, 1, errors);
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].kv.value, "2");
}

TEST(EtcdStoreFailure, ThreeMemberClusterKeepsServingWithAFollowerThenTheLeaderStopped) {
  EtcdCluster etcd(3);
  const int leader = etcd.leader();
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  // The stopped follower is the first endpoint, so every call starts there and fails over.
  const std::string url = "etcd://" + etcd.endpoint(follower) + "," + etcd.endpoint((follower + 1) % 3) + "," +
                          etcd.endpoint((follower + 2) % 3);
  auto store = EtcdStore::open(url).value();
  ASSERT_TRUE(store->commit({{{"/blockd/v1/n", 0}}, {Operation::put("/blockd/v1/n", "0")}})->succeeded);
  etcd.stop(follower);
  auto kv = store->get("/blockd/v1/n").value().value();
  for (int i = 1; i <= 50; ++i) {
    auto r = store->commit({{{"/blockd/v1/n", kv.mod_revision}}, {Operation::put("/blockd/v1/n", std::to_string(i))}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE(r->succeeded);
    kv = store->get("/blockd/v1/n").value().value();
  }
  EXPECT_EQ(kv.value, "50");

  // Now the leader: the remaining two elect a new one. Calls may fail with a clear Unavailable
  // error during the election, then go on.
  etcd.start(follower);
  etcd.wait_ready(follower);
  etcd.stop(etcd.leader());
  int failures = 0;
  for (int i = 51; i <= 100;) {
    auto cur = store->get("/blockd/v1/n");
    auto r = cur ? store->commit({{{"/blockd/v1/n", (*cur)->mod_revision}}, {Operation::put("/blockd/v1/n", std::to_string(i))}})
                 : Result<TransactionResult>(cur.error());
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::Unavailable) << r.error().message;
      ASSERT_LT(++failures, 50) << r.error().message;
      std::this_thread::sleep_for(100ms);
      continue;
    }
    ASSERT_TRUE(r->succeeded);
    ++i;
  }
  EXPECT_EQ(store->get("/blockd/v1/n").value()->value, "100");
}

}  // namespace
}  // namespace blockd::ipam::testing

static auto* const kSharedEtcdTeardown =
    ::testing::AddGlobalTestEnvironment(new blockd::ipam::testing::SharedEtcdTeardown);
