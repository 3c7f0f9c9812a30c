#include "agent/cni/cni_plugin.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "agent/control_api.hpp"
#include "ipam/net/prefix.hpp"

namespace blockd::agent::cni {
namespace {

using json = nlohmann::json;

PluginError env_error(std::string msg) { return {code::kInvalidEnvironment, std::move(msg), ""}; }
PluginError config_error(std::string msg) { return {code::kInvalidNetworkConfig, std::move(msg), ""}; }

// CNI spec 1.0: a container ID starts with an alphanumeric character, then alphanumerics, '_', '.', '-'.
bool valid_container_id(const std::string& id) {
  if (id.empty() || !std::isalnum(static_cast<unsigned char>(id[0]))) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

bool supported(const std::string& version) {
  return std::any_of(std::begin(kSupportedVersions), std::end(kSupportedVersions),
                     [&](const char* v) { return version == v; });
}

std::string supported_list() {
  std::string out;
  for (const char* v : kSupportedVersions) out += (out.empty() ? "" : ", ") + std::string(v);
  return out;
}

// Before 1.0.0 every IP config names its family ("version": "4").
bool needs_ip_version(const std::string& cni_version) { return cni_version.starts_with("0."); }

std::string without_length(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

class ControlSocketApi : public IpamApi {
 public:
  explicit ControlSocketApi(const std::string& socket) : client_(socket) {}
  Result<json> allocate(const json& request) override { return client_.post("/v1/ipam/allocate", request); }
  Result<json> release(const json& request) override { return client_.post("/v1/ipam/release", request); }
  Result<json> handle(const std::string& handle_id) override {
    return client_.get("/v1/ipam/handles/" + percent_encode(handle_id));
  }

 private:
  ControlClient client_;
};

Output failure(const std::string& cni_version, const PluginError& e) {
  return {1, error_json(cni_version, e).dump(2) + "\n"};
}

Output add(const NetworkConfig& config, const Environment& env, IpamApi& api) {
  auto allocated = api.allocate(allocate_request(config, env));
  if (!allocated) return failure(config.cni_version, plugin_error(allocated.error()));
  auto result = add_result(config, *allocated);
  if (!result) return failure(config.cni_version, result.error());
  return {0, result->dump(2) + "\n"};
}

// DEL is idempotent (spec 1.0, "DEL"): nothing held, or a handle blockd never heard of, is success.
Output del(const NetworkConfig& config, const Environment& env, IpamApi& api) {
  auto released = api.release(json{{"handle", handle_of(config, env)}});
  if (!released && released.error().code != ErrorCode::NotFound) {
    return failure(config.cni_version, plugin_error(released.error()));
  }
  return {0, ""};
}

Output check(const NetworkConfig& config, const Environment& env, IpamApi& api) {
  if (needs_ip_version(config.cni_version) && config.cni_version != "0.4.0") {
    return failure(config.cni_version, {code::kIncompatibleVersion,
                                        "CHECK needs cniVersion 0.4.0 or later (this network has " +
                                            config.cni_version + ")", ""});
  }
  if (!config.prev_result) return failure(config.cni_version, config_error("CHECK: prevResult is missing"));
  const std::string handle = handle_of(config, env);
  auto held = api.handle(handle);
  if (!held) return failure(config.cni_version, plugin_error(held.error()));
  std::set<std::string> addresses;
  if (held->is_object() && held->contains("ips") && (*held)["ips"].is_array()) {
    for (const auto& ip : (*held)["ips"]) {
      if (ip.is_string()) addresses.insert(without_length(ip.get<std::string>()));
    }
  }
  const json& prev = *config.prev_result;
  if (!prev.contains("ips") || !prev["ips"].is_array()) {
    return failure(config.cni_version, config_error("CHECK: prevResult.ips is missing"));
  }
  for (const auto& ip : prev["ips"]) {
    if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) {
      return failure(config.cni_version, config_error("CHECK: prevResult.ips[].address must be a string"));
    }
    const std::string address = without_length(ip["address"].get<std::string>());
    if (!addresses.contains(address)) {
      return failure(config.cni_version, {code::kCheckFailed,
                                          "handle " + handle + " no longer holds " + address + " in blockd's IPAM",
                                          "held: " + json(std::vector<std::string>(addresses.begin(), addresses.end())).dump()});
    }
  }
  return {0, ""};
}

}  // namespace

Outcome<Environment> parse_environment(const std::function<const char*(const char*)>& getenv) {
  auto var = [&](const char* name) {
    const char* v = getenv(name);
    return std::string(v ? v : "");
  };
  Environment env{var("CNI_COMMAND"), var("CNI_CONTAINERID"), var("CNI_NETNS"), var("CNI_IFNAME"), var("CNI_PATH")};
  if (env.command.empty()) return env_error("CNI_COMMAND is not set (ADD, DEL, CHECK or VERSION)");
  if (env.command == "VERSION") return env;
  if (env.command != "ADD" && env.command != "DEL" && env.command != "CHECK") {
    return env_error("CNI_COMMAND " + env.command + ": must be ADD, DEL, CHECK or VERSION");
  }
  if (env.container_id.empty()) return env_error("CNI_CONTAINERID is not set");
  if (!valid_container_id(env.container_id)) {
    return env_error("CNI_CONTAINERID " + env.container_id +
                     ": must start with a letter or digit and hold only letters, digits, '_', '.', '-'");
  }
  // Spec 1.0: CNI_NETNS may be empty for DEL (the namespace may be gone already).
  if (env.command != "DEL" && env.netns.empty()) return env_error("CNI_NETNS is not set");
  if (env.ifname.empty()) return env_error("CNI_IFNAME is not set");
  return env;
}

Outcome<NetworkConfig> parse_network_config(std::string_view stdin_text) {
  json doc;
  try {
    doc = json::parse(stdin_text);
  } catch (const json::exception& e) {
    return PluginError{code::kDecodeFailure, "the network configuration on stdin is not JSON", e.what()};
  }
  if (!doc.is_object()) return PluginError{code::kDecodeFailure, "the network configuration must be a JSON object", ""};
  NetworkConfig config;
  if (!doc.contains("cniVersion") || !doc["cniVersion"].is_string()) return config_error("cniVersion: missing (a string such as \"1.0.0\")");
  config.cni_version = doc["cniVersion"].get<std::string>();
  if (!supported(config.cni_version)) {
    return PluginError{code::kIncompatibleVersion,
                       "cniVersion " + config.cni_version + " is not supported (blockd-ipam supports " + supported_list() + ")",
                       ""};
  }
  if (!doc.contains("name") || !doc["name"].is_string() || doc["name"].get<std::string>().empty()) {
    return config_error("name: missing (the network's name, a non-empty string)");
  }
  config.name = doc["name"].get<std::string>();
  if (!doc.contains("ipam") || !doc["ipam"].is_object()) return config_error("ipam: missing (an object with \"type\": \"blockd-ipam\")");
  const json& ipam = doc["ipam"];
  config.socket = kDefaultControlSocket;
  if (ipam.contains("socket")) {
    if (!ipam["socket"].is_string() || ipam["socket"].get<std::string>().empty()) {
      return config_error("ipam.socket: must be the path of blockd's control socket");
    }
    config.socket = ipam["socket"].get<std::string>();
  }
  for (auto [field, target] : {std::pair{"ipv4", &config.ipv4}, std::pair{"ipv6", &config.ipv6}}) {
    if (!ipam.contains(field)) continue;
    if (!ipam[field].is_boolean()) return config_error(std::string("ipam.") + field + ": must be true or false");
    *target = ipam[field].get<bool>();
  }
  if (!config.ipv4 && !config.ipv6) return config_error("ipam: ipv4 and ipv6 are both false, so there is nothing to allocate");
  if (ipam.contains("pools")) {
    if (!ipam["pools"].is_array()) return config_error("ipam.pools: must be a list of IP pool names");
    for (const auto& p : ipam["pools"]) {
      if (!p.is_string() || p.get<std::string>().empty()) return config_error("ipam.pools: every entry must be a pool name");
      config.pools.push_back(p.get<std::string>());
    }
  }
  if (doc.contains("prevResult") && !doc["prevResult"].is_null()) {
    if (!doc["prevResult"].is_object()) return config_error("prevResult: must be an object");
    config.prev_result = doc["prevResult"];
  }
  return config;
}

std::string handle_of(const NetworkConfig& config, const Environment& env) {
  return config.name + "." + env.container_id;
}

json allocate_request(const NetworkConfig& config, const Environment& env) {
  return {{"handle", handle_of(config, env)}, {"ipv4", config.ipv4}, {"ipv6", config.ipv6}, {"pools", config.pools}};
}

Outcome<json> add_result(const NetworkConfig& config, const json& allocated) {
  const auto bad = [](const std::string& why) {
    return PluginError{code::kAgentFailed, "blockd's allocate answer is not understood: " + why, ""};
  };
  if (!allocated.is_object() || !allocated.contains("ips") || !allocated["ips"].is_array()) return bad("no ips list");
  if (allocated["ips"].empty()) return bad("no address in it");
  json ips = json::array();
  json routes = json::array();
  bool v4 = false, v6 = false;
  for (const auto& ip : allocated["ips"]) {
    if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) return bad("an ip without an address");
    const std::string address = ip["address"].get<std::string>();
    const bool is_v6 = address.find(':') != std::string::npos;
    unsigned length = is_v6 ? 128 : 32;
    if (ip.contains("prefixLength") && ip["prefixLength"].is_number_integer()) {
      const auto given = ip["prefixLength"].get<long long>();
      if (given < 0 || given > length) return bad("prefixLength " + std::to_string(given) + " for " + address);
      length = static_cast<unsigned>(given);
    }
    // ptp puts the gateway on the host end of the veth and routes through it: every IP needs one.
    std::string gateway = is_v6 ? "fe80::1" : "169.254.1.1";
    if (ip.contains("gateway") && ip["gateway"].is_string()) gateway = ip["gateway"].get<std::string>();
    // ptp (containernetworking-plugins 1.x) replaces the prefix route of the address with one via
    // the gateway, so the gateway must be on-link. The agent's prefixLength is kept when the
    // gateway is inside it (blockd reports the pool's length); else a gateway inside the
    // address's block gets the block's length. A gateway outside both (Calico's 169.254.1.1)
    // keeps the length as given, for main plugins that route via a link-local gateway.
    auto gw = ipam::Address::parse(gateway);
    auto self = ipam::Address::parse(address);
    if (gw && self && gw->family() == self->family() && length <= self->bits() &&
        !ipam::Prefix::make(*self, length).contains(*gw) && ip.contains("block") && ip["block"].is_string()) {
      auto block = ipam::Prefix::parse(ip["block"].get<std::string>());
      if (block && block->contains(*gw) && block->contains(*self) && *gw != *self) length = block->length();
    }
    json entry = {{"address", address + "/" + std::to_string(length)}, {"gateway", gateway}};
    if (needs_ip_version(config.cni_version)) entry["version"] = is_v6 ? "6" : "4";
    ips.push_back(std::move(entry));
    if (is_v6 && !v6) routes.push_back({{"dst", "::/0"}});
    if (!is_v6 && !v4) routes.push_back({{"dst", "0.0.0.0/0"}});
    (is_v6 ? v6 : v4) = true;
  }
  return json{{"cniVersion", config.cni_version}, {"ips", std::move(ips)}, {"routes", std::move(routes)}};
}

PluginError plugin_error(const Error& e) {
  switch (e.code) {
    case ErrorCode::Exhausted: return {code::kTryAgainLater, e.message, "blockd: no free address now (Exhausted)"};
    case ErrorCode::Unavailable: return {code::kAgentUnavailable, e.message, "blockd: Unavailable"};
    case ErrorCode::Internal: return {code::kAgentFailed, e.message, "blockd: Internal"};
    case ErrorCode::Invalid:
    case ErrorCode::NotFound:
    case ErrorCode::Conflict: break;
  }
  return {code::kIpamRefused, e.message, std::string("blockd: ") + error_code_name(e.code)};
}

json error_json(const std::string& cni_version, const PluginError& e) {
  return {{"cniVersion", cni_version.empty() || !supported(cni_version) ? "1.0.0" : cni_version},
          {"code", e.code},
          {"msg", e.msg},
          {"details", e.details}};
}

json version_json() {
  return {{"cniVersion", "1.0.0"}, {"supportedVersions", std::vector<std::string>(std::begin(kSupportedVersions), std::end(kSupportedVersions))}};
}

std::unique_ptr<IpamApi> control_socket_api(const std::string& socket) { return std::make_unique<ControlSocketApi>(socket); }

Output run(const Outcome<Environment>& env, std::string_view stdin_text, const IpamApiFactory& api) {
  if (env && env->command == "VERSION") return {0, version_json().dump() + "\n"};
  auto config = parse_network_config(stdin_text);
  const std::string version = config ? config->cni_version : "1.0.0";
  if (!env) return failure(version, env.error());
  if (!config) return failure(version, config.error());
  auto client = api(config->socket);
  if (env->command == "ADD") return add(*config, *env, *client);
  if (env->command == "DEL") return del(*config, *env, *client);
  return check(*config, *env, *client);
}

}  // namespace blockd::agent::cni
