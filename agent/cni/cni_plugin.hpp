// blockd-ipam: a CNI IPAM plugin (CNI spec 1.0) that asks the local blockd for addresses over
// its control API. The logic here is pure (environment, stdin and the agent come in as values
// and an interface), so it is unit-tested; blockd_ipam_main.cpp is the thin executable.
//
// Network configuration (stdin):
//   {"cniVersion": "1.0.0", "name": "k8s-pod-network", "type": "ptp",
//    "ipam": {"type": "blockd-ipam", "socket": "/run/blockd/blockd.sock",   (optional)
//             "ipv4": true, "ipv6": false, "pools": ["rack-0-ippool"]}}        (optional)
// The handle of a workload is "<network name>.<container id>" (one per workload, as Calico).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ipam/net/result.hpp"

namespace blockd::agent::cni {

// CNI spec 1.0, "Error": well-known codes 1-99 and ours from 100.
namespace code {
inline constexpr unsigned kIncompatibleVersion = 1;
inline constexpr unsigned kUnsupportedField = 2;
inline constexpr unsigned kInvalidEnvironment = 4;   // CNI_COMMAND, CNI_CONTAINERID, ...
inline constexpr unsigned kIoFailure = 5;
inline constexpr unsigned kDecodeFailure = 6;        // stdin is not JSON
inline constexpr unsigned kInvalidNetworkConfig = 7;
inline constexpr unsigned kTryAgainLater = 11;       // the pools are exhausted now
inline constexpr unsigned kIpamRefused = 100;        // blockd refused: no pool selects this node, ...
inline constexpr unsigned kAgentUnavailable = 101;   // blockd not running, or its datastore down
inline constexpr unsigned kAgentFailed = 102;        // blockd failed internally
inline constexpr unsigned kCheckFailed = 103;        // CHECK: the handle no longer holds an address
}  // namespace code

inline constexpr const char* kSupportedVersions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};

struct PluginError {
  unsigned code = code::kAgentFailed;
  std::string msg;
  std::string details;
};

// A value or a CNI error (CNI needs its own numbers, not blockd's ErrorCode).
template <class T>
using Outcome = Result<T, PluginError>;

struct Environment {
  std::string command;  // ADD, DEL, CHECK, VERSION
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::string path;
};

struct NetworkConfig {
  std::string cni_version;
  std::string name;
  std::string socket;
  bool ipv4 = true;
  bool ipv6 = false;
  std::vector<std::string> pools;
  std::optional<nlohmann::json> prev_result;
};

// The CNI_* variables, checked for the command (spec 1.0, "Parameters").
Outcome<Environment> parse_environment(const std::function<const char*(const char*)>& getenv);
Outcome<NetworkConfig> parse_network_config(std::string_view stdin_text);

std::string handle_of(const NetworkConfig& config, const Environment& env);
// POST /v1/ipam/allocate's body.
nlohmann::json allocate_request(const NetworkConfig& config, const Environment& env);
// The CNI result of ADD from the agent's answer: one ip per address (A/32 or A/128 with the
// agent's gateway, which ptp needs) and a default route per family.
Outcome<nlohmann::json> add_result(const NetworkConfig& config, const nlohmann::json& allocated);
// blockd's error as a CNI error (Exhausted is "try again later").
PluginError plugin_error(const Error& e);
nlohmann::json error_json(const std::string& cni_version, const PluginError& e);
nlohmann::json version_json();

// What the plugin needs of blockd (real: ControlClient on the configured socket).
class IpamApi {
 public:
  virtual ~IpamApi() = default;
  virtual Result<nlohmann::json> allocate(const nlohmann::json& request) = 0;
  virtual Result<nlohmann::json> release(const nlohmann::json& request) = 0;
  virtual Result<nlohmann::json> handle(const std::string& handle_id) = 0;
};
using IpamApiFactory = std::function<std::unique_ptr<IpamApi>(const std::string& socket)>;
std::unique_ptr<IpamApi> control_socket_api(const std::string& socket);

struct Output {
  int exit_status = 0;
  std::string stdout_text;  // the result, or the error JSON
};

// One invocation: the environment as read (or its error), stdin, and how to reach blockd.
Output run(const Outcome<Environment>& env, std::string_view stdin_text, const IpamApiFactory& api);

}  // namespace blockd::agent::cni
