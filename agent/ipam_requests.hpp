// The bodies of POST /v1/ipam/allocate and /v1/ipam/release (control_api.hpp), checked field by
// field: a missing, unknown or wrongly typed field is Invalid (HTTP 400) naming it, never a
// 500 from a JSON type error, and never silently ignored.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ipam/net/result.hpp"

namespace blockd::agent {

// A handle or a pool name on the wire: up to 512 characters, none of them control characters
// (they would reach terminals and the log).
inline constexpr std::size_t kMaxNameLength = 512;
// More pools than any cluster has (Calico's pool list is a handful).
inline constexpr std::size_t kMaxRequestPools = 64;

struct AllocateBody {
  std::string handle;
  bool ipv4 = true;
  bool ipv6 = false;
  std::vector<std::string> pools;
};
Result<AllocateBody> parse_allocate_body(const nlohmann::json& body);

struct ReleaseBody {
  std::optional<std::string> handle;
  std::optional<std::string> address;  // exactly one of the two
};
Result<ReleaseBody> parse_release_body(const nlohmann::json& body);

// A name that may travel in requests and logs: non-empty, at most kMaxNameLength, no control
// characters. `field` names it in the error.
Status check_name(const std::string& field, const std::string& value);

}  // namespace blockd::agent
