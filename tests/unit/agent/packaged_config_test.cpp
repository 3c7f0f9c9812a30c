// The examples the package installs: /etc/blockd/blockd.yaml (packaging/blockd.yaml) loads as
// shipped and with every optional field it shows commented out switched on, and it shows every
// field the agent reads; the CNI network config example is one blockd-ipam accepts.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "agent/cni/cni_plugin.hpp"
#include "agent/config.hpp"

namespace blockd::agent {
namespace {

const std::string kSource = BLOCKD_SOURCE_DIR;
const std::string kExample = kSource + "/packaging/blockd.yaml";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "  # routerId: 10.0.0.10" becomes "  routerId: 10.0.0.10"; prose comments start with a capital.
std::string with_optional_fields_on(const std::string& yaml) {
  static const std::regex commented_field(R"(^(\s*)# ([a-z][A-Za-z0-9]*: .*)$)");
  std::istringstream in(yaml);
  std::string out, line;
  while (std::getline(in, line)) out += std::regex_replace(line, commented_field, "$1$2") + "\n";
  return out;
}

TEST(PackagedConfig, LoadsAsShipped) {
  auto c = load_agent_config(kExample);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->node.name, "node-0");
  EXPECT_EQ(c->datastore, "sqlite:///var/lib/blockd/blockd.db");
  EXPECT_FALSE(c->node.address_v6.has_value());
}

TEST(PackagedConfig, LoadsWithEveryCommentedOptionalFieldOn) {
  auto c = parse_agent_config(with_optional_fields_on(read(kExample)));
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->node.address_v6.has_value());
  EXPECT_EQ(c->node.address_v6->str(), "fd00::10/64");
  EXPECT_EQ(c->node.router_id.str(), "10.0.0.10");
  ASSERT_TRUE(c->bgp.listen_address.has_value());
  ASSERT_EQ(c->bgp.peers.size(), 1u);
  EXPECT_EQ(c->bgp.peers[0].password, "secret");
  EXPECT_EQ(c->bgp.peers[0].bfd, (BfdProfile{300, 300, 3}));
  ASSERT_TRUE(c->dataplane.vtep_address.has_value());
  EXPECT_EQ(c->dataplane.vtep_mac, "02:00:0a:00:00:0a");
}

// The field names come from the parser's own lists (check_fields in agent/config.cpp), so a
// field added there and not to the example fails here.
TEST(PackagedConfig, ShowsEveryFieldTheAgentReads) {
  const std::string parser = read(kSource + "/agent/config.cpp");
  static const std::regex field_list(R"(check_fields\(\{([^}]*)\}\))");
  static const std::regex quoted_name(R"re("(\w+)")re");
  std::set<std::string> fields;
  for (std::sregex_iterator list(parser.begin(), parser.end(), field_list), end; list != end; ++list) {
    const std::string names = (*list)[1];
    for (std::sregex_iterator n(names.begin(), names.end(), quoted_name); n != end; ++n) fields.insert((*n)[1]);
  }
  ASSERT_GE(fields.size(), 30u) << "the field lists of agent/config.cpp were not found";
  const std::string example = with_optional_fields_on(read(kExample));
  // A field that is an alternative to another (passwordFile to password) cannot be on with it:
  // the example shows it as "# or FIELD: ...".
  const std::string raw = read(kExample);
  for (const char* alternative : {"passwordFile"}) {
    EXPECT_TRUE(std::regex_search(raw, std::regex(std::string("#\\s*or ") + alternative + ":")))
        << "packaging/blockd.yaml does not show the alternative field " << alternative;
    fields.erase(alternative);
  }
  for (const auto& f : fields) {
    EXPECT_TRUE(std::regex_search(example, std::regex("(^|\\n)\\s*(- )?" + f + ":")))
        << "packaging/blockd.yaml does not show the field " << f;
  }
}

TEST(PackagedConfig, TheCniExampleIsANetworkBlockdIpamAccepts) {
  const auto list = nlohmann::json::parse(read(kSource + "/packaging/10-blockd.conflist"));
  int ipam_plugins = 0;
  for (auto plugin : list.at("plugins")) {
    if (!plugin.contains("ipam")) continue;
    ++ipam_plugins;
    // What a runtime hands each plugin of a list (CNI spec 1.0, "Network configuration lists").
    plugin["cniVersion"] = list.at("cniVersion");
    plugin["name"] = list.at("name");
    auto c = cni::parse_network_config(plugin.dump());
    ASSERT_TRUE(c.ok()) << c.error().msg;
    EXPECT_EQ(c->socket, "/run/blockd/blockd.sock");
  }
  EXPECT_EQ(ipam_plugins, 1);
}

}  // namespace
}  // namespace blockd::agent
