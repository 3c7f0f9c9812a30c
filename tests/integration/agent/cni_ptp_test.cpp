// blockd-ipam behind Debian's real CNI `ptp` plugin, against a ControlServer whose handler
// allocates with the real ipam::Allocator on a SQLite store: two pods are added into network
// namespaces this test creates (a "host" namespace holds ptp's host-side veths and routes, so
// nothing touches the machine's own network), get their addresses and /32 host routes, reach each
// other through the host namespace, pass ptp's CHECK, and are deleted (twice: DEL is idempotent)
// leaving the IPAM clean.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "agent/control_api.hpp"
#include "ipam/allocator.hpp"
#include "ipam/block.hpp"
#include "ipam/ipam_check.hpp"
#include "ipam/keys.hpp"
#include "ipam/resource_store.hpp"
#include "ipam/store/sqlite_store.hpp"

namespace blockd::agent {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace blockd::ipam;

constexpr const char* kPtp = "/usr/lib/cni/ptp";
constexpr const char* kNode = "node-a";
constexpr const char* kPrefix = "blockd-cni-";

struct CommandResult {
  int status;
  std::string output;
};

CommandResult run(const std::string& cmd) {
  CommandResult r{0, {}};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::array<char, 4096> buf{};
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) r.output.append(buf.data(), n);
  r.status = pclose(p);
  return r;
}

std::string must(const std::string& cmd) {
  auto r = run(cmd + " 2>&1");
  if (r.status != 0) throw std::runtime_error("command failed: " + cmd + "\n" + r.output);
  return r.output;
}

// Namespaces of earlier runs whose process is gone.
void remove_stale_namespaces() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/run/netns", ec)) {
    const std::string name = e.path().filename();
    if (!name.starts_with(kPrefix)) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(name.substr(std::strlen(kPrefix)).c_str()));
    if (pid > 0 && kill(pid, 0) != 0) run("ip netns del " + name + " 2>/dev/null");
  }
}

class Netns {
 public:
  explicit Netns(const std::string& tag) : name_(std::string(kPrefix) + std::to_string(getpid()) + "-" + tag) {
    run("ip netns del " + name_ + " 2>/dev/null");
    must("ip netns add " + name_);
    must("ip -n " + name_ + " link set lo up");
  }
  ~Netns() { run("ip netns del " + name_ + " 2>/dev/null"); }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }

 private:
  std::string name_;
};

// The agent's IPAM half, as blockd serves it: the real allocator on the store.
class AllocatorHandler : public ControlHandler {
 public:
  explicit AllocatorHandler(Datastore& store) : store_(store), allocator_(store) {}

  json status() override { return {{"node", kNode}}; }
  json peers() override { return json::array(); }
  json routes(const std::string&) override { return json::array(); }
  std::string metrics() override { return ""; }

  Result<json> allocate(const json& request) override {
    if (!request.contains("handle") || !request["handle"].is_string()) return invalid("handle: missing");
    ResourceStore rs(store_);
    auto node = rs.node(kNode);
    if (!node) return node.error();
    auto pools = rs.pools();
    if (!pools) return pools.error();
    const AllocationContext ctx{node->name, node->labels, *pools};
    std::vector<std::string> only = request.value("pools", std::vector<std::string>{});
    json ips = json::array();
    for (auto [field, family] : {std::pair{"ipv4", Family::V4}, std::pair{"ipv6", Family::V6}}) {
      if (!request.value(field, family == Family::V4)) continue;
      auto a = allocator_.allocate(ctx, {request["handle"], family, only});
      if (!a) return a.error();
      ips.push_back({{"address", a->address.str()},
                     {"prefixLength", a->address.bits()},
                     {"block", a->block.str()},
                     {"pool", a->pool},
                     {"borrowed", a->borrowed},
                     {"gateway", gateway(ctx, *a)}});
    }
    return json{{"ips", ips}};
  }

  // ptp needs an on-link gateway: one address of each block, reserved under its own handle (as
  // Calico on Windows reserves block addresses), else Calico's link-local 169.254.1.1.
  std::string gateway(const AllocationContext& ctx, const AllocatedAddress& a) {
    const std::string fallback = a.address.is_v4() ? "169.254.1.1" : "fe80::1";
    if (auto it = gateways_.find(a.block); it != gateways_.end()) return it->second;
    auto g = allocator_.allocate(ctx, {"gateway." + ctx.node + "." + keys::block_id(a.block), a.address.family(), {a.pool}});
    if (!g) return fallback;
    if (g->block != a.block) {
      (void)allocator_.release_address(g->address, ctx.pools);
      return fallback;
    }
    return gateways_[a.block] = g->address.str();
  }

  Result<json> release(const json& request) override {
    if (!request.contains("handle") || !request["handle"].is_string()) return invalid("handle: missing");
    auto released = allocator_.release_handle(request["handle"]);
    if (!released) return released.error();
    json out = json::array();
    for (const auto& r : *released) out.push_back(r.address.str());
    ++releases;
    return json{{"released", out}};
  }

  // The addresses a handle holds: its record names the blocks, the blocks the ordinals.
  Result<json> handle(const std::string& id) override {
    auto kv = store_.get(keys::handle(id));
    if (!kv) return kv.error();
    json ips = json::array();
    if (kv->has_value()) {
      auto record = HandleRecord::from_json((*kv)->value);
      if (!record) return record.error();
      for (const auto& [block_cidr, count] : record->blocks) {
        auto bkv = store_.get(keys::block(block_cidr));
        if (!bkv) return bkv.error();
        if (!bkv->has_value()) continue;
        auto block = AllocationBlock::from_json((*bkv)->value);
        if (!block) return block.error();
        for (const auto& [ordinal, allocation] : block->allocations()) {
          if (allocation.handle == id) ips.push_back(block->cidr().at(ordinal).str());
        }
      }
    }
    return json{{"handle", id}, {"ips", ips}};
  }

  int releases = 0;

 private:
  Datastore& store_;
  Allocator allocator_;
  std::map<Prefix, std::string> gateways_;
};

class PtpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    remove_stale_namespaces();
    dir_ = fs::temp_directory_path() / (std::string(kPrefix) + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    socket_ = (dir_ / "run" / "blockd.sock").string();

    auto opened = SqliteStore::open((dir_ / "blockd.db").string());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    ResourceStore rs(*store_);
    IPPool pool;
    pool.name = "rack-0-ippool";
    pool.cidr = *Prefix::parse("10.123.0.0/24");
    pool.block_size = 26;
    pool.node_selector = "rack == \"0\"";
    ASSERT_TRUE(rs.write(pool, WriteMode::Create).ok());
    Node node;
    node.name = kNode;
    node.labels = {{"rack", "0"}};
    node.ipv4_address = *InterfaceAddress::parse("10.0.0.10/24");
    auto wrote = rs.write(node, WriteMode::Create);
    ASSERT_TRUE(wrote.ok()) << wrote.error().message;

    handler_ = std::make_unique<AllocatorHandler>(*store_);
    server_ = std::make_unique<ControlServer>(io_, *handler_, socket_);
    auto started = server_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    thread_ = std::thread([this] { io_.run(); });

    ASSERT_TRUE(fs::exists(kPtp)) << kPtp << " is missing: install containernetworking-plugins";
    ASSERT_TRUE(fs::exists(fs::path(BLOCKD_IPAM_DIR) / "blockd-ipam"));
    host_ = std::make_unique<Netns>("host");
  }

  void TearDown() override {
    pods_.clear();
    host_.reset();
    if (thread_.joinable()) {
      io_.stop();
      thread_.join();
    }
    server_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  json network_config(const std::optional<json>& prev_result = {}, const std::string& socket = "") const {
    json c = {{"cniVersion", "1.0.0"},
              {"name", "blockd-test"},
              {"type", "ptp"},
              {"ipam", {{"type", "blockd-ipam"}, {"socket", socket.empty() ? socket_ : socket}}}};
    if (prev_result) c["prevResult"] = *prev_result;
    return c;
  }

  // Runs a CNI plugin inside the host namespace, the network config on stdin.
  CommandResult cni(const std::string& plugin, const std::string& command, const std::string& container_id,
                    const Netns* pod, const json& config) {
    const fs::path conf = dir_ / ("conf-" + container_id + ".json");
    std::ofstream(conf) << config.dump();
    const std::string cmd = "ip netns exec " + host_->name() + " env CNI_COMMAND=" + command +
                            " CNI_CONTAINERID=" + container_id + " CNI_NETNS=" + (pod ? pod->path() : "") +
                            " CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni:" + BLOCKD_IPAM_DIR + " " + plugin + " < " +
                            conf.string();
    return run(cmd);
  }

  Netns& pod(const std::string& tag) { return *pods_.emplace_back(std::make_unique<Netns>(tag)); }

  std::size_t allocated() {
    auto listed = store_->list(keys::kBlocks);
    EXPECT_TRUE(listed.ok());
    std::size_t n = 0;
    for (const auto& kv : listed->kvs) n += AllocationBlock::from_json(kv.value)->used();
    return n;
  }

  fs::path dir_;
  std::string socket_;
  std::unique_ptr<SqliteStore> store_;
  boost::asio::io_context io_;
  std::unique_ptr<AllocatorHandler> handler_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
  std::unique_ptr<Netns> host_;
  std::vector<std::unique_ptr<Netns>> pods_;
};

TEST_F(PtpTest, TwoPodsGetAddressesAndRoutesThenReleaseCleanly) {
  struct Pod {
    Netns* ns;
    std::string id;
    json result;
    std::string address;
    std::string host_veth;
  };
  std::vector<Pod> added;
  for (const char* tag : {"pod0", "pod1"}) {
    Netns& ns = pod(tag);
    const std::string id = std::string("ctr-") + tag;
    auto add = cni(kPtp, "ADD", id, &ns, network_config());
    ASSERT_EQ(add.status, 0) << add.output;
    const json result = json::parse(add.output);
    ASSERT_EQ(result["ips"].size(), 1u) << result;
    // The pod's address with its block's length, so that the reserved gateway is on-link.
    const std::string cidr = result["ips"][0]["address"];
    ASSERT_TRUE(cidr.ends_with("/26")) << cidr;
    const std::string address = cidr.substr(0, cidr.find('/'));
    EXPECT_TRUE(Prefix::parse("10.123.0.0/24")->contains(*Address::parse(address))) << address;
    const std::string gateway = result["ips"][0]["gateway"];
    EXPECT_TRUE(Prefix::parse(cidr.substr(0, cidr.rfind('.')) + ".0/24")->contains(*Address::parse(gateway))) << gateway;
    EXPECT_NE(gateway, address);
    // ptp reports the host-side veth first, then the pod's interface.
    std::string host_veth;
    for (const auto& i : result["interfaces"]) {
      if (!i.contains("sandbox")) host_veth = i["name"];
    }
    ASSERT_FALSE(host_veth.empty()) << result;
    added.push_back({&ns, id, result, address, host_veth});
  }
  EXPECT_NE(added[0].address, added[1].address);
  EXPECT_EQ(allocated(), 3u);  // two pods and the block's gateway

  for (const auto& p : added) {
    // The handle is "<network>.<container id>" and holds exactly this address.
    auto held = handler_->handle("blockd-test." + p.id);
    ASSERT_TRUE(held.ok());
    EXPECT_EQ((*held)["ips"], json::array({p.address}));
    // The pod has its address on eth0 ...
    const json addrs = json::parse(must("ip -n " + p.ns->name() + " -j addr show dev eth0"));
    bool found = false;
    for (const auto& a : addrs[0]["addr_info"]) found |= a["local"] == p.address && a["prefixlen"] == 26;
    EXPECT_TRUE(found) << addrs.dump();
    // ... its default route via the gateway ...
    const json pod_routes = json::parse(must("ip -n " + p.ns->name() + " -j route show default"));
    ASSERT_EQ(pod_routes.size(), 1u) << pod_routes.dump();
    EXPECT_EQ(pod_routes[0]["gateway"], p.result["ips"][0]["gateway"]);
    // ... and the host namespace routes its /32 to the pod's veth.
    const json routes = json::parse(must("ip -n " + host_->name() + " -j route show " + p.address + "/32"));
    ASSERT_EQ(routes.size(), 1u) << routes.dump();
    EXPECT_EQ(routes[0]["dev"], p.host_veth);
  }

  // Pod to pod through the host namespace over the ptp routes.
  auto ping = run("ip netns exec " + added[0].ns->name() + " ping -c 1 -W 5 " + added[1].address + " 2>&1");
  EXPECT_EQ(ping.status, 0) << ping.output;

  // ptp's CHECK asks blockd-ipam, which asks the agent whether the handle still holds the address.
  for (const auto& p : added) {
    auto check = cni(kPtp, "CHECK", p.id, p.ns, network_config(p.result));
    EXPECT_EQ(check.status, 0) << check.output;
  }

  for (const auto& p : added) {
    for (int i = 0; i < 2; ++i) {  // DEL is idempotent
      auto del = cni(kPtp, "DEL", p.id, p.ns, network_config());
      EXPECT_EQ(del.status, 0) << "DEL #" << i + 1 << ": " << del.output;
    }
    EXPECT_EQ(json::parse(must("ip -n " + host_->name() + " -j route show " + p.address + "/32")).size(), 0u);
    auto held = handler_->handle("blockd-test." + p.id);
    ASSERT_TRUE(held.ok());
    EXPECT_TRUE((*held)["ips"].empty());
  }
  EXPECT_GE(handler_->releases, 2);
  EXPECT_EQ(allocated(), 1u);  // the gateway stays reserved
  auto report = check_ipam(*store_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->clean()) << (report->problems.empty() ? "" : report->problems[0].text);

  // After the release blockd-ipam's own CHECK fails, naming the address it no longer holds.
  const std::string ipam = std::string(BLOCKD_IPAM_DIR) + "/blockd-ipam";
  auto stale = cni(ipam, "CHECK", added[0].id, added[0].ns, network_config(added[0].result));
  EXPECT_NE(stale.status, 0);
  const json error = json::parse(stale.output);
  EXPECT_EQ(error["code"], 103);
  EXPECT_NE(error["msg"].get<std::string>().find(added[0].address), std::string::npos) << error;
}

TEST_F(PtpTest, AnUnreachableAgentFailsAddWithCode101AndNoInterfaceLeft) {
  Netns& ns = pod("pod0");
  auto add = cni(kPtp, "ADD", "ctr-x", &ns, network_config({}, (dir_ / "nobody.sock").string()));
  ASSERT_NE(add.status, 0) << add.output;
  const json error = json::parse(add.output);
  EXPECT_EQ(error["code"], 101) << error;
  EXPECT_NE(error["msg"].get<std::string>().find("is blockd running?"), std::string::npos) << error;
  EXPECT_EQ(must("ip -n " + ns.name() + " -o link show").find("eth0"), std::string::npos);
  EXPECT_EQ(allocated(), 0u);
}

TEST_F(PtpTest, AnExhaustedPoolIsTryAgainLater) {
  // A /30 pool of one /30 block: four addresses, one the gateway, then the fourth pod must wait.
  ResourceStore rs(*store_);
  ASSERT_TRUE(rs.remove("IPPool", "rack-0-ippool").ok());
  IPPool tiny;
  tiny.name = "tiny";
  tiny.cidr = *Prefix::parse("10.124.0.0/30");
  tiny.block_size = 30;
  ASSERT_TRUE(rs.write(tiny, WriteMode::Create).ok());
  const std::string ipam = std::string(BLOCKD_IPAM_DIR) + "/blockd-ipam";
  Netns& ns = pod("pod0");
  for (int i = 0; i < 3; ++i) {
    auto add = cni(ipam, "ADD", "ctr-" + std::to_string(i), &ns, network_config());
    ASSERT_EQ(add.status, 0) << add.output;
  }
  auto full = cni(ipam, "ADD", "ctr-3", &ns, network_config());
  ASSERT_NE(full.status, 0);
  const json error = json::parse(full.output);
  EXPECT_EQ(error["code"], 11) << error;
  EXPECT_NE(error["msg"].get<std::string>().find("tiny"), std::string::npos) << error;
}

// blockctl's runtime commands against the same server, through the real binary.
TEST_F(PtpTest, BlockctlNodeStatusAndRoutesAskTheAgent) {
  const std::string blockctl = std::string(BLOCKCTL_DIR) + "/blockctl";
  auto status = run(blockctl + " node status --socket " + socket_ + " 2>&1");
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_TRUE(status.output.starts_with("blockd process is running.\n")) << status.output;
  EXPECT_NE(status.output.find("No IPv4 peers found."), std::string::npos) << status.output;
  // $BLOCKD_SOCKET is the fallback for --socket.
  auto routes = run("BLOCKD_SOCKET=" + socket_ + " " + blockctl + " routes kernel -o json 2>&1");
  EXPECT_EQ(routes.status, 0) << routes.output;
  EXPECT_EQ(json::parse(routes.output), json::array());
  auto gone = run(blockctl + " node status --socket " + (dir_ / "nobody.sock").string() + " 2>&1");
  EXPECT_EQ(WEXITSTATUS(gone.status), 2) << gone.output;
  EXPECT_NE(gone.output.find("blockd process is not running."), std::string::npos) << gone.output;
  EXPECT_NE(gone.output.find("(is blockd running?)"), std::string::npos) << gone.output;
}

// SO_PEERCRED: a caller that is neither root nor blockd's user is refused even when the socket's
// mode would let it connect.
TEST_F(PtpTest, ACallerWithAnotherUidIsRefused) {
  const std::string blockctl = std::string(BLOCKCTL_DIR) + "/blockctl";
  ASSERT_EQ(::chmod(socket_.c_str(), 0666), 0);
  auto refused = run("setpriv --reuid=65534 --regid=65534 --clear-groups " + blockctl + " node status --socket " +
                     socket_ + " 2>&1");
  EXPECT_EQ(WEXITSTATUS(refused.status), 1) << refused.output;
  EXPECT_NE(refused.output.find("blockd accepts only root and uid 0 (this caller is uid 65534)"), std::string::npos)
      << refused.output;
  // Root still gets through.
  EXPECT_EQ(run(blockctl + " node status --socket " + socket_ + " >/dev/null 2>&1").status, 0);
}

}  // namespace
}  // namespace blockd::agent
