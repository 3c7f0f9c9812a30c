// blockd-ipam's logic (CNI spec 1.0): environment and network-config parsing, the ADD result,
// the error JSON and codes, and ADD/DEL/CHECK/VERSION against a fake agent.
#include "agent/cni/cni_plugin.hpp"

#include <gtest/gtest.h>

#include <map>

#include "agent/bounded_input.hpp"

namespace blockd::agent::cni {
namespace {

using json = nlohmann::json;

std::function<const char*(const char*)> vars(std::map<std::string, std::string> env) {
  return [env = std::move(env)](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
}

const std::map<std::string, std::string> kAdd = {
    {"CNI_COMMAND", "ADD"}, {"CNI_CONTAINERID", "c0ffee"}, {"CNI_NETNS", "/var/run/netns/pod"},
    {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/usr/lib/cni"}};

std::map<std::string, std::string> with(std::map<std::string, std::string> env, const std::string& k, const char* v) {
  if (v) {
    env[k] = v;
  } else {
    env.erase(k);
  }
  return env;
}

const char* kConfig = R"({"cniVersion": "1.0.0", "name": "k8s-pod-network", "type": "ptp",
                          "ipam": {"type": "blockd-ipam", "socket": "/tmp/b.sock"}})";

TEST(CniEnvironment, AddWithEverythingSetParses) {
  auto env = parse_environment(vars(kAdd));
  ASSERT_TRUE(env.ok()) << env.error().msg;
  EXPECT_EQ(env->command, "ADD");
  EXPECT_EQ(env->container_id, "c0ffee");
  EXPECT_EQ(env->ifname, "eth0");
}

TEST(CniEnvironment, MissingOrBadVariablesAreCode4NamingTheVariable) {
  const struct {
    std::map<std::string, std::string> env;
    std::string names;
  } cases[] = {
      {with(kAdd, "CNI_COMMAND", nullptr), "CNI_COMMAND"},
      {with(kAdd, "CNI_COMMAND", "UPDATE"), "CNI_COMMAND UPDATE"},
      {with(kAdd, "CNI_CONTAINERID", nullptr), "CNI_CONTAINERID"},
      {with(kAdd, "CNI_CONTAINERID", "-starts-with-dash"), "CNI_CONTAINERID"},
      {with(kAdd, "CNI_CONTAINERID", "has/slash"), "CNI_CONTAINERID"},
      {with(kAdd, "CNI_NETNS", nullptr), "CNI_NETNS"},
      {with(kAdd, "CNI_IFNAME", ""), "CNI_IFNAME"},
      {with(with(kAdd, "CNI_COMMAND", "CHECK"), "CNI_NETNS", nullptr), "CNI_NETNS"},
  };
  for (const auto& c : cases) {
    auto env = parse_environment(vars(c.env));
    ASSERT_FALSE(env.ok()) << c.names;
    EXPECT_EQ(env.error().code, code::kInvalidEnvironment) << c.names;
    EXPECT_NE(env.error().msg.find(c.names), std::string::npos) << env.error().msg;
  }
}

TEST(CniEnvironment, DelNeedsNoNetnsAndVersionNeedsNothingElse) {
  EXPECT_TRUE(parse_environment(vars(with(with(kAdd, "CNI_COMMAND", "DEL"), "CNI_NETNS", nullptr))).ok());
  EXPECT_TRUE(parse_environment(vars({{"CNI_COMMAND", "VERSION"}})).ok());
}

TEST(CniConfig, DefaultsAreIpv4OnTheDefaultSocket) {
  auto c = parse_network_config(R"({"cniVersion": "0.4.0", "name": "net", "ipam": {"type": "blockd-ipam"}})");
  ASSERT_TRUE(c.ok()) << c.error().msg;
  EXPECT_EQ(c->cni_version, "0.4.0");
  EXPECT_EQ(c->name, "net");
  EXPECT_EQ(c->socket, "/run/blockd/blockd.sock");
  EXPECT_TRUE(c->ipv4);
  EXPECT_FALSE(c->ipv6);
  EXPECT_TRUE(c->pools.empty());
  EXPECT_FALSE(c->prev_result.has_value());
}

TEST(CniConfig, EveryIpamFieldIsRead) {
  auto c = parse_network_config(R"({"cniVersion": "1.0.0", "name": "net", "prevResult": {"ips": []},
      "ipam": {"type": "blockd-ipam", "socket": "/s", "ipv4": false, "ipv6": true, "pools": ["a", "b"]}})");
  ASSERT_TRUE(c.ok()) << c.error().msg;
  EXPECT_EQ(c->socket, "/s");
  EXPECT_FALSE(c->ipv4);
  EXPECT_TRUE(c->ipv6);
  EXPECT_EQ(c->pools, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(c->prev_result.has_value());
}

TEST(CniConfig, BadConfigsGetTheSpecsCodeAndNameTheField) {
  const struct {
    const char* text;
    unsigned code;
    const char* names;
  } cases[] = {
      {"not json", code::kDecodeFailure, "not JSON"},
      {"[1]", code::kDecodeFailure, "JSON object"},
      {R"({"name": "n", "ipam": {}})", code::kInvalidNetworkConfig, "cniVersion"},
      {R"({"cniVersion": "2.0.0", "name": "n", "ipam": {}})", code::kIncompatibleVersion, "2.0.0"},
      {R"({"cniVersion": "1.0.0", "ipam": {}})", code::kInvalidNetworkConfig, "name"},
      {R"({"cniVersion": "1.0.0", "name": ""})", code::kInvalidNetworkConfig, "name"},
      {R"({"cniVersion": "1.0.0", "name": "n"})", code::kInvalidNetworkConfig, "ipam"},
      {R"({"cniVersion": "1.0.0", "name": "n", "ipam": {"socket": 5}})", code::kInvalidNetworkConfig, "ipam.socket"},
      {R"({"cniVersion": "1.0.0", "name": "n", "ipam": {"ipv6": "yes"}})", code::kInvalidNetworkConfig, "ipam.ipv6"},
      {R"({"cniVersion": "1.0.0", "name": "n", "ipam": {"ipv4": false}})", code::kInvalidNetworkConfig, "nothing to allocate"},
      {R"({"cniVersion": "1.0.0", "name": "n", "ipam": {"pools": "a"}})", code::kInvalidNetworkConfig, "ipam.pools"},
      {R"({"cniVersion": "1.0.0", "name": "n", "ipam": {"pools": [""]}})", code::kInvalidNetworkConfig, "ipam.pools"},
      {R"({"cniVersion": "1.0.0", "name": "n", "ipam": {}, "prevResult": 3})", code::kInvalidNetworkConfig, "prevResult"},
      // CNI spec 1.0's network name: a control character or a space would reach blockd's log.
      {R"({"cniVersion": "1.0.0", "name": "net\u001b[31m\nx", "ipam": {}})", code::kInvalidNetworkConfig, "name \"net\\x1b[31m\\nx\""},
      {R"({"cniVersion": "1.0.0", "name": "my net", "ipam": {}})", code::kInvalidNetworkConfig, "CNI spec 1.0"},
      {R"({"cniVersion": "1.0.0", "name": "n", "ipam": {"pools": ["a\u0007"]}})", code::kInvalidNetworkConfig, "control characters"},
  };
  for (const auto& c : cases) {
    auto r = parse_network_config(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code, c.code) << c.text;
    EXPECT_NE(r.error().msg.find(c.names), std::string::npos) << c.text << " -> " << r.error().msg;
  }
}

TEST(CniConfig, AConfigOverTheSizeLimitIsRefusedUnparsed) {
  std::string big = R"({"cniVersion": "1.0.0", "name": "n", "ipam": {}, "pad": ")";
  big += std::string(kMaxCniConfigBytes, 'x') + "\"}";
  auto r = parse_network_config(big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, code::kInvalidNetworkConfig);
  EXPECT_NE(r.error().msg.find("larger than 1048576 bytes"), std::string::npos) << r.error().msg;
}

TEST(CniRequest, HandleIsNetworkNameDotContainerId) {
  auto c = parse_network_config(kConfig);
  auto e = parse_environment(vars(kAdd));
  ASSERT_TRUE(c.ok() && e.ok());
  EXPECT_EQ(handle_of(*c, *e), "k8s-pod-network.c0ffee");
  EXPECT_EQ(allocate_request(*c, *e),
            (json{{"handle", "k8s-pod-network.c0ffee"}, {"ipv4", true}, {"ipv6", false}, {"pools", json::array()}}));
}

TEST(CniResult, OneIpPerAddressWithTheAgentsGatewayAndADefaultRoutePerFamily) {
  auto c = parse_network_config(kConfig);
  ASSERT_TRUE(c.ok());
  auto r = add_result(*c, {{"ips", {{{"address", "192.168.0.5"}, {"prefixLength", 32}, {"gateway", "169.254.1.1"}},
                                    {{"address", "fd00::5"}, {"prefixLength", 128}, {"gateway", "fe80::ecee"}}}}});
  ASSERT_TRUE(r.ok()) << r.error().msg;
  EXPECT_EQ(*r, json::parse(R"({"cniVersion": "1.0.0",
      "ips": [{"address": "192.168.0.5/32", "gateway": "169.254.1.1"}, {"address": "fd00::5/128", "gateway": "fe80::ecee"}],
      "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]})"));
}

TEST(CniResult, AGatewayInsideTheBlockIsOnLinkSoTheAddressGetsTheBlocksLength) {
  auto c = parse_network_config(kConfig);
  ASSERT_TRUE(c.ok());
  auto r = add_result(*c, {{"ips", {{{"address", "10.123.0.5"}, {"prefixLength", 32}, {"block", "10.123.0.0/26"},
                                     {"gateway", "10.123.0.1"}},
                                    {{"address", "10.123.1.9"}, {"prefixLength", 32}, {"block", "10.123.1.0/26"},
                                     {"gateway", "169.254.1.1"}}}}});
  ASSERT_TRUE(r.ok()) << r.error().msg;
  EXPECT_EQ((*r)["ips"][0]["address"], "10.123.0.5/26");
  EXPECT_EQ((*r)["ips"][0]["gateway"], "10.123.0.1");
  EXPECT_EQ((*r)["ips"][1]["address"], "10.123.1.9/32");  // a link-local gateway keeps the /32
}

TEST(CniResult, AGatewayAlreadyOnLinkKeepsTheAgentsPrefixLength) {
  auto c = parse_network_config(kConfig);
  ASSERT_TRUE(c.ok());
  // blockd reports the pool's length with a gateway it reserved somewhere in the pool.
  auto r = add_result(*c, {{"ips", {{{"address", "10.123.0.70"}, {"prefixLength", 24}, {"block", "10.123.0.64/26"},
                                     {"gateway", "10.123.0.1"}}}}});
  ASSERT_TRUE(r.ok()) << r.error().msg;
  EXPECT_EQ((*r)["ips"][0]["address"], "10.123.0.70/24");
}

TEST(CniResult, BeforeOneDotZeroEveryIpNamesItsVersion) {
  auto c = parse_network_config(R"({"cniVersion": "0.3.1", "name": "n", "ipam": {}})");
  ASSERT_TRUE(c.ok());
  auto r = add_result(*c, {{"ips", {{{"address", "10.1.0.7"}}}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["ips"][0], (json{{"address", "10.1.0.7/32"}, {"gateway", "169.254.1.1"}, {"version", "4"}}));
  EXPECT_EQ((*r)["cniVersion"], "0.3.1");
}

TEST(CniResult, AnAnswerWithoutAddressesIsAnError) {
  auto c = parse_network_config(kConfig);
  ASSERT_TRUE(c.ok());
  for (const json& bad : {json::object(), json{{"ips", json::array()}}, json{{"ips", {{{"gateway", "x"}}}}}}) {
    auto r = add_result(*c, bad);
    ASSERT_FALSE(r.ok()) << bad.dump();
    EXPECT_EQ(r.error().code, code::kAgentFailed);
  }
}

TEST(CniErrors, AgentErrorsMapToCniCodes) {
  EXPECT_EQ(plugin_error(exhausted("full")).code, code::kTryAgainLater);
  EXPECT_EQ(plugin_error(unavailable("down")).code, code::kAgentUnavailable);
  EXPECT_EQ(plugin_error(internal("bug")).code, code::kAgentFailed);
  const auto nopool = plugin_error(invalid("no IPv4 IP pool selects node n1 (labels: rack=9)"));
  EXPECT_EQ(nopool.code, code::kIpamRefused);
  EXPECT_EQ(nopool.msg, "no IPv4 IP pool selects node n1 (labels: rack=9)");
  EXPECT_EQ(plugin_error(not_found("pool x")).code, code::kIpamRefused);
}

TEST(CniErrors, ErrorJsonHasTheSpecsFields) {
  EXPECT_EQ(error_json("0.4.0", {11, "no free address", "rack-0 full"}),
            (json{{"cniVersion", "0.4.0"}, {"code", 11}, {"msg", "no free address"}, {"details", "rack-0 full"}}));
  EXPECT_EQ(error_json("", {4, "x", ""})["cniVersion"], "1.0.0");
  EXPECT_EQ(error_json("9.9.9", {1, "x", ""})["cniVersion"], "1.0.0");
}

TEST(CniVersion, ListsTheSupportedVersions) {
  EXPECT_EQ(version_json(),
            json::parse(R"({"cniVersion": "1.0.0", "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]})"));
}

// The agent, faked: what it holds per handle.
class FakeApi : public IpamApi {
 public:
  explicit FakeApi(std::map<std::string, std::vector<std::string>>& held, std::optional<Error> fail = {})
      : held_(held), fail_(std::move(fail)) {}
  Result<json> allocate(const json& request) override {
    if (fail_) return *fail_;
    const std::string address = "192.168.0." + std::to_string(held_.size() + 1);
    held_[request["handle"]].push_back(address);
    return json{{"ips", {{{"address", address}, {"prefixLength", 32}, {"gateway", "169.254.1.1"}}}}};
  }
  Result<json> release(const json& request) override {
    if (fail_) return *fail_;
    auto it = held_.find(request["handle"]);
    if (it == held_.end()) return not_found("handle holds nothing");
    json released = it->second;
    held_.erase(it);
    return json{{"released", released}};
  }
  Result<json> handle(const std::string& id) override {
    if (fail_) return *fail_;
    return json{{"handle", id}, {"ips", held_.contains(id) ? json(held_[id]) : json::array()}};
  }

 private:
  std::map<std::string, std::vector<std::string>>& held_;
  std::optional<Error> fail_;
};

class CniRun : public ::testing::Test {
 protected:
  Output invoke(const std::string& command, const std::string& config, std::optional<Error> fail = {}) {
    auto env = parse_environment(vars(with(kAdd, "CNI_COMMAND", command.c_str())));
    return run(env, config, [&](const std::string& socket) {
      sockets.push_back(socket);
      return std::make_unique<FakeApi>(held, fail);
    });
  }
  std::map<std::string, std::vector<std::string>> held;
  std::vector<std::string> sockets;
};

TEST_F(CniRun, AddAllocatesUnderTheHandleOnTheConfiguredSocket) {
  auto out = invoke("ADD", kConfig);
  EXPECT_EQ(out.exit_status, 0) << out.stdout_text;
  EXPECT_EQ(json::parse(out.stdout_text)["ips"][0]["address"], "192.168.0.1/32");
  EXPECT_EQ(held["k8s-pod-network.c0ffee"], std::vector<std::string>{"192.168.0.1"});
  EXPECT_EQ(sockets, std::vector<std::string>{"/tmp/b.sock"});
}

TEST_F(CniRun, DelReleasesAndIsIdempotent) {
  ASSERT_EQ(invoke("ADD", kConfig).exit_status, 0);
  auto first = invoke("DEL", kConfig);
  EXPECT_EQ(first.exit_status, 0) << first.stdout_text;
  EXPECT_TRUE(held.empty());
  auto second = invoke("DEL", kConfig);  // the agent answers NotFound: still success
  EXPECT_EQ(second.exit_status, 0) << second.stdout_text;
  EXPECT_EQ(second.stdout_text, "");
}

TEST_F(CniRun, DelFailsWhenTheAgentCanNotBeReached) {
  auto out = invoke("DEL", kConfig, unavailable("cannot reach blockd at /tmp/b.sock: Connection refused (is blockd running?)"));
  EXPECT_NE(out.exit_status, 0);
  const json e = json::parse(out.stdout_text);
  EXPECT_EQ(e["code"], 101);
  EXPECT_NE(e["msg"].get<std::string>().find("is blockd running?"), std::string::npos);
}

TEST_F(CniRun, AddWhenThePoolsAreFullIsTryAgainLater) {
  auto out = invoke("ADD", kConfig, exhausted("no free address for node n1 in rack-0"));
  EXPECT_NE(out.exit_status, 0);
  const json e = json::parse(out.stdout_text);
  EXPECT_EQ(e["code"], 11);
  EXPECT_EQ(e["cniVersion"], "1.0.0");
  EXPECT_EQ(e["msg"], "no free address for node n1 in rack-0");
}

std::string with_prev_result(const json& prev) {
  json c = json::parse(kConfig);
  c["prevResult"] = prev;
  return c.dump();
}

TEST_F(CniRun, CheckPassesWhileTheHandleHoldsThePrevResultsAddresses) {
  auto add = invoke("ADD", kConfig);
  ASSERT_EQ(add.exit_status, 0);
  auto check = invoke("CHECK", with_prev_result(json::parse(add.stdout_text)));
  EXPECT_EQ(check.exit_status, 0) << check.stdout_text;
  held.clear();
  auto stale = invoke("CHECK", with_prev_result(json::parse(add.stdout_text)));
  EXPECT_NE(stale.exit_status, 0);
  const json e = json::parse(stale.stdout_text);
  EXPECT_EQ(e["code"], code::kCheckFailed);
  EXPECT_NE(e["msg"].get<std::string>().find("192.168.0.1"), std::string::npos) << e;
}

TEST_F(CniRun, CheckWithoutPrevResultIsAnInvalidConfig) {
  auto out = invoke("CHECK", kConfig);
  EXPECT_EQ(json::parse(out.stdout_text)["code"], code::kInvalidNetworkConfig);
}

TEST_F(CniRun, VersionNeedsNoConfigAndNoAgent) {
  auto out = run(parse_environment(vars({{"CNI_COMMAND", "VERSION"}})), "",
                 [&](const std::string&) -> std::unique_ptr<IpamApi> { ADD_FAILURE() << "no agent for VERSION"; return nullptr; });
  EXPECT_EQ(out.exit_status, 0);
  EXPECT_EQ(json::parse(out.stdout_text)["supportedVersions"].size(), 4u);
}

TEST_F(CniRun, ABadEnvironmentIsReportedWithTheConfigsVersion) {
  auto out = run(parse_environment(vars(with(kAdd, "CNI_IFNAME", nullptr))),
                 R"({"cniVersion": "0.4.0", "name": "n", "ipam": {}})",
                 [&](const std::string&) -> std::unique_ptr<IpamApi> { return nullptr; });
  EXPECT_NE(out.exit_status, 0);
  const json e = json::parse(out.stdout_text);
  EXPECT_EQ(e["code"], code::kInvalidEnvironment);
  EXPECT_EQ(e["cniVersion"], "0.4.0");
}

}  // namespace
}  // namespace blockd::agent::cni
