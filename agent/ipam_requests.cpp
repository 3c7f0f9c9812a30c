#include "agent/ipam_requests.hpp"

#include <algorithm>

#include "agent/printable.hpp"

namespace blockd::agent {
namespace {

using json = nlohmann::json;

Status only_fields(const char* what, const json& body, std::initializer_list<const char*> known) {
  if (!body.is_object()) return invalid(std::string(what) + ": the body must be a JSON object");
  for (const auto& item : body.items()) {
    const std::string& key = item.key();  // not a structured binding: clang 14 cannot capture one
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return invalid(std::string(what) + ": unknown field \"" + printable(key) + "\" (known: " + list + ")");
    }
  }
  return {};
}

Result<std::string> string_field(const char* what, const json& body, const char* field) {
  const json& v = body.at(field);
  if (!v.is_string()) return invalid(std::string(what) + ": " + field + " must be a string (got " + v.type_name() + ")");
  std::string s = v.get<std::string>();
  if (auto ok = check_name(field, s); !ok) return ok.error().within(what);
  return s;
}

}  // namespace

Status check_name(const std::string& field, const std::string& value) {
  if (value.empty()) return invalid(field + ": must not be empty");
  if (value.size() > kMaxNameLength) {
    return invalid(field + ": longer than " + std::to_string(kMaxNameLength) + " characters");
  }
  if (has_control_characters(value)) {
    return invalid(field + " \"" + printable(value) + "\": control characters are not allowed");
  }
  return {};
}

Result<AllocateBody> parse_allocate_body(const json& body) {
  constexpr const char* what = "allocate";
  if (auto ok = only_fields(what, body, {"handle", "ipv4", "ipv6", "pools"}); !ok) return ok.error();
  AllocateBody out;
  if (!body.contains("handle")) return invalid("allocate: handle: missing (the workload's handle, a string)");
  auto handle = string_field(what, body, "handle");
  if (!handle) return handle.error();
  out.handle = std::move(*handle);
  for (auto [field, target] : {std::pair{"ipv4", &out.ipv4}, std::pair{"ipv6", &out.ipv6}}) {
    if (!body.contains(field)) continue;
    if (!body[field].is_boolean()) {
      return invalid(std::string("allocate: ") + field + " must be true or false (got " + body[field].type_name() + ")");
    }
    *target = body[field].get<bool>();
  }
  if (!out.ipv4 && !out.ipv6) return invalid("allocate: ipv4 and ipv6: neither is requested");
  if (body.contains("pools")) {
    const json& pools = body["pools"];
    if (!pools.is_array()) {
      return invalid(std::string("allocate: pools must be a list of pool names (got ") + pools.type_name() + ")");
    }
    if (pools.size() > kMaxRequestPools) {
      return invalid("allocate: pools: more than " + std::to_string(kMaxRequestPools) + " entries");
    }
    for (const auto& p : pools) {
      if (!p.is_string()) return invalid(std::string("allocate: pools: every entry must be a pool name (got ") + p.type_name() + ")");
      if (auto ok = check_name("pools[]", p.get<std::string>()); !ok) return ok.error().within(what);
      out.pools.push_back(p.get<std::string>());
    }
  }
  return out;
}

Result<ReleaseBody> parse_release_body(const json& body) {
  constexpr const char* what = "release";
  if (auto ok = only_fields(what, body, {"handle", "address"}); !ok) return ok.error();
  if (body.contains("handle") == body.contains("address")) {
    return invalid("release: the body must hold either handle or address (one of them)");
  }
  ReleaseBody out;
  const char* field = body.contains("handle") ? "handle" : "address";
  auto value = string_field(what, body, field);
  if (!value) return value.error();
  (body.contains("handle") ? out.handle : out.address) = std::move(*value);
  return out;
}

}  // namespace blockd::agent
