// The node agent's control API end to end in one process: a NodeAgent on a SQLite store in a
// temporary folder (no kernel programming, no BGP listener), called through ControlClient and
// raw sockets. Request validation, idempotent allocation, counters' types, and the store
// worker: /v1/status answers while the store is write-locked by another connection, an
// allocation whose caller hung up is given back, and allocations queued together are one batch.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "agent/config.hpp"
#include "agent/control_api.hpp"
#include "agent/node_agent.hpp"
#include "ipam/keys.hpp"
#include "ipam/resource_store.hpp"
#include "ipam/store/sqlite_store.hpp"

namespace blockd::agent {
namespace {

namespace net = boost::asio;
using json = nlohmann::json;

class NodeAgentApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("blockd-agent-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = (dir_ / "store.db").string();
    socket_ = (dir_ / "blockd.sock").string();
    {
      auto store = ipam::SqliteStore::open(db_);
      ASSERT_TRUE(store.ok()) << store.error().message;
      ipam::ResourceStore resources(**store);
      ipam::IPPool pool;
      pool.name = "rack-0";
      pool.cidr = ipam::Prefix::parse("192.168.0.0/24").value();
      ASSERT_TRUE(resources.write(pool, ipam::WriteMode::Create).ok());
    }
    auto config = parse_agent_config("node: {name: n1, address: 10.0.0.10/24, asNumber: 65002}\n"
                                     "datastore: sqlite://" + db_ + "\n"
                                     "bgp: {listenPort: 0}\n"
                                     "dataplane: {programKernel: false}\n"
                                     "control: {socket: " + socket_ + ", metrics: \"\"}\n");
    ASSERT_TRUE(config.ok()) << config.error().message;
    agent_ = std::make_unique<NodeAgent>(io_, *config);
    auto ok = agent_->start();
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (thread_.joinable()) {
      std::promise<void> stopped;
      net::post(io_, [&] {
        agent_->stop();
        stopped.set_value();
      });
      stopped.get_future().wait();
      guard_.reset();
      io_.stop();
      thread_.join();
    }
    agent_.reset();
    std::filesystem::remove_all(dir_);
  }
  Result<json> post(const json& body) { return ControlClient(socket_, 20000).post("/v1/ipam/allocate", body); }
  std::vector<std::string> held(const std::string& handle) {
    auto r = ControlClient(socket_).get("/v1/ipam/handles/" + handle);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r ? (*r)["ips"].get<std::vector<std::string>>() : std::vector<std::string>{};
  }

  // Another process's write transaction on the store: allocations wait for it.
  struct WriteLock {
    explicit WriteLock(const std::string& path) {
      sqlite3_open(path.c_str(), &db);
      locked = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    void release() {
      if (db) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(db);
      db = nullptr;
    }
    ~WriteLock() { release(); }
    sqlite3* db = nullptr;
    bool locked = false;
  };

  std::filesystem::path dir_;
  std::string db_, socket_;
  net::io_context io_;
  std::unique_ptr<NodeAgent> agent_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard_;
  std::thread thread_;
};

TEST_F(NodeAgentApiTest, BadAllocateBodiesAre400NamingTheField) {
  const std::pair<json, std::string> cases[] = {
      {json{{"ipv4", true}}, "handle: missing"},
      {json{{"handle", 5}}, "handle must be a string"},
      {json{{"handle", "h"}, {"ipv4", "yes"}}, "ipv4 must be true or false"},
      {json{{"handle", "h"}, {"ipv6", 1}}, "ipv6 must be true or false"},
      {json{{"handle", "h"}, {"pools", "rack-0"}}, "pools must be a list of pool names"},
      {json{{"handle", "h"}, {"pools", json::array({7})}}, "pools: every entry must be a pool name"},
      {json{{"handle", "h"}, {"pool", json::array({"rack-0"})}}, "unknown field \"pool\""},
      {json{{"handle", "h\x1b[31m\nforged"}}, "control characters are not allowed"},
      {json{{"handle", std::string(600, 'h')}}, "longer than 512 characters"},
  };
  for (const auto& [body, expected] : cases) {
    auto r = post(body);
    ASSERT_FALSE(r.ok()) << body.dump();
    EXPECT_EQ(r.error().code, ErrorCode::Invalid) << body.dump() << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(expected), std::string::npos) << body.dump() << ": " << r.error().message;
    EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos) << "the error echoes a raw ESC";
  }
  auto release = ControlClient(socket_).post("/v1/ipam/release", json{{"handle", "h"}, {"address", "192.168.0.1"}});
  ASSERT_FALSE(release.ok());
  EXPECT_EQ(release.error().code, ErrorCode::Invalid) << release.error().message;
  EXPECT_TRUE(held("h").empty()) << "a refused request took nothing";
}

TEST_F(NodeAgentApiTest, AllocatingAHandleAgainGivesTheAddressItHolds) {
  auto first = post(json{{"handle", "net.c1"}});
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto again = post(json{{"handle", "net.c1"}});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)["ips"][0]["address"], (*first)["ips"][0]["address"]);
  EXPECT_EQ((*again)["ips"][0]["reused"], true);
  EXPECT_EQ(held("net.c1").size(), 1u) << "a retried ADD must not take a second address";
  auto other = post(json{{"handle", "net.c2"}});
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)["ips"][0]["address"], (*first)["ips"][0]["address"]);
}

TEST_F(NodeAgentApiTest, CountersAreExportedAsCounters) {
  ASSERT_TRUE(post(json{{"handle", "net.c1"}}).ok());
  std::promise<std::string> text;
  net::post(io_, [&] { text.set_value(agent_->metrics()); });
  const std::string m = text.get_future().get();
  for (const char* name : {"blockd_ipam_allocations_total", "blockd_ipam_allocation_errors_total",
                           "blockd_ipam_releases_total", "blockd_replans_total", "blockd_reconcile_errors_total",
                           "blockd_reconcile_seconds_total"}) {
    EXPECT_NE(m.find(std::string("# TYPE ") + name + " counter\n"), std::string::npos) << name << "\n" << m;
  }
  EXPECT_NE(m.find("# TYPE blockd_bgp_peers gauge\n"), std::string::npos) << m;
  EXPECT_NE(m.find("blockd_ipam_allocations_total 1\n"), std::string::npos) << m;
}

TEST_F(NodeAgentApiTest, StatusAnswersWhileAnAllocationWaitsForALockedStore) {
  WriteLock lock(db_);
  ASSERT_TRUE(lock.locked);
  auto pending = std::async(std::launch::async, [&] { return post(json{{"handle", "net.slow"}}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the allocation is waiting on the lock
  const auto t0 = std::chrono::steady_clock::now();
  auto status = ControlClient(socket_, 5000).get("/v1/status");
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ((*status)["node"], "n1");
  // Ordered, not timed: the status came back while the allocation is still blocked.
  EXPECT_EQ(pending.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "the allocation finished before the lock was released";
  std::cout << "status answered in " << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
            << " ms with the store write-locked\n";
  lock.release();
  auto allocated = pending.get();
  ASSERT_TRUE(allocated.ok()) << allocated.error().message;
}

TEST_F(NodeAgentApiTest, AnAllocationWhoseCallerHungUpIsGivenBack) {
  WriteLock lock(db_);
  ASSERT_TRUE(lock.locked);
  {
    net::io_context io;
    net::local::stream_protocol::socket s(io);
    s.connect(net::local::stream_protocol::endpoint(socket_));
    const std::string body = R"({"handle": "net.gone"})";
    net::write(s, net::buffer("POST /v1/ipam/allocate HTTP/1.1\r\nHost: blockd\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the call is waiting on the lock
  }  // the caller hangs up, as a CNI plugin that timed out does
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  lock.release();
  std::vector<std::string> left = {"?"};
  for (int i = 0; i < 100 && !left.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    left = held("net.gone");
  }
  EXPECT_TRUE(left.empty()) << "the undelivered allocation still holds " << left.front();
}

TEST_F(NodeAgentApiTest, AllocationsQueuedTogetherAreCommittedAsOneBatchEachWithItsOwnAnswer) {
  WriteLock lock(db_);
  ASSERT_TRUE(lock.locked);
  // The first allocation holds the store worker (waiting on the lock); the next ones queue behind it.
  auto first = std::async(std::launch::async, [&] { return post(json{{"handle", "net.first"}}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<std::future<Result<json>>> queued;
  for (int i = 0; i < 8; ++i) {
    json body{{"handle", "net.q" + std::to_string(i)}};
    if (i == 3) body["pools"] = json::array({"nope"});  // fails alone
    queued.push_back(std::async(std::launch::async, [this, body] { return post(body); }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all queued
  lock.release();
  ASSERT_TRUE(first.get().ok());
  std::set<std::string> addresses;
  for (int i = 0; i < 8; ++i) {
    auto r = queued[i].get();
    if (i == 3) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::Invalid) << r.error().message;
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().message;
    addresses.insert((*r)["ips"][0]["address"].get<std::string>());
  }
  EXPECT_EQ(addresses.size(), 7u);
  // One transaction: every queued handle was written at one store revision.
  auto store = ipam::SqliteStore::open(db_).value();
  std::set<std::int64_t> revisions;
  for (int i = 0; i < 8; ++i) {
    auto kv = store->get(ipam::keys::handle("net.q" + std::to_string(i))).value();
    if (i == 3) EXPECT_FALSE(kv.has_value());
    else if (kv) revisions.insert(kv->mod_revision);
    else ADD_FAILURE() << "no handle net.q" << i;
  }
  EXPECT_EQ(revisions.size(), 1u);
}

}  // namespace
}  // namespace blockd::agent
