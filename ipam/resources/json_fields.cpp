#include "ipam/resources/json_fields.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace blockd::ipam::json_fields {

using nlohmann::json;

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// ---------------------------------------------------------------------------------------------
// JSON -> resources, field by field, naming the field path in every error.

std::string describe(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "an empty value";
    case json::value_t::boolean:
      return std::string("the boolean ") + (j.get<bool>() ? "true" : "false");
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "the number " + j.dump();
    case json::value_t::string:
      return "the string \"" + j.get<std::string>() + "\"";
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "a mapping";
    default:
      return "a value of an unexpected type";
  }
}

Error wrong_type(const std::string& field, const std::string& want, const json& got) {
  return invalid(field + ": expected " + want + ", got " + describe(got));
}

std::string squash(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == '-') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// Unknown fields are errors: a typo must not silently become a default.
Status check_fields(const json& obj, const std::string& path, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = "unknown field " + join_path(path, key);
    for (auto k : known) {
      if (squash(k) == squash(key)) return invalid(message + " (did you mean " + join_path(path, std::string(k)) + "?)");
    }
    // Never stored silently: a field blockd would not act on must not look applied.
    return invalid(message + ": blockd does not implement it, so nothing was stored");
  }
  return {};
}

// A field that is absent or null keeps its default.
const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<const json*> object_field(const json& obj, const char* key, const std::string& path) {
  const json* v = field(obj, key);
  if (v != nullptr && !v->is_object()) return wrong_type(join_path(path, key), "a mapping", *v);
  return v;
}

Status read_string(const json& obj, const char* key, const std::string& path, std::string& out) {
  const json* v = field(obj, key);
  if (v == nullptr) return {};
  if (!v->is_string()) return wrong_type(join_path(path, key), "a string", *v);
  out = v->get<std::string>();
  return {};
}

Status read_bool(const json& obj, const char* key, const std::string& path, bool& out) {
  const json* v = field(obj, key);
  if (v == nullptr) return {};
  if (!v->is_boolean()) return wrong_type(join_path(path, key), "true or false", *v);
  out = v->get<bool>();
  return {};
}

// An integer in [0, max]; out of range names the accepted range [lo, max].
Result<std::optional<std::uint64_t>> read_uint(const json& obj, const char* key, const std::string& path,
                                               std::uint64_t lo, std::uint64_t max,
                                               const std::string& range_note) {
  const json* v = field(obj, key);
  if (v == nullptr) return std::optional<std::uint64_t>{};
  const std::string name = join_path(path, key);
  if (!v->is_number_integer()) return wrong_type(name, "an integer", *v);
  const std::string range = " is out of range (" + std::to_string(lo) + " to " + std::to_string(max) +
                            range_note + ")";
  if (v->is_number_unsigned()) {
    const auto n = v->get<std::uint64_t>();
    if (n > max) return invalid(name + ": " + std::to_string(n) + range);
    return std::optional<std::uint64_t>(n);
  }
  const auto n = v->get<std::int64_t>();
  if (n < 0 || static_cast<std::uint64_t>(n) > max) return invalid(name + ": " + std::to_string(n) + range);
  return std::optional<std::uint64_t>(static_cast<std::uint64_t>(n));
}

// AS numbers: a number, or a string holding a number or the asdot form "1.10" (RFC 5396).
Result<std::optional<std::uint32_t>> read_asn(const json& obj, const char* key, const std::string& path) {
  const json* v = field(obj, key);
  if (v == nullptr) return std::optional<std::uint32_t>{};
  const std::string name = join_path(path, key);
  const std::string range = " is out of range (1 to 4294967295)";
  if (v->is_number_integer()) {
    auto n = read_uint(obj, key, path, 1, 4294967295u);
    if (!n) return n.error();
    return std::optional<std::uint32_t>(static_cast<std::uint32_t>(**n));
  }
  if (!v->is_string()) return wrong_type(name, "an AS number", *v);
  const std::string s = v->get<std::string>();
  const Error bad = invalid(name + ": \"" + s + "\" is not an AS number (expected 1 to 4294967295, or "
                            "the asdot form such as 1.10)");
  auto number = [](std::string_view t, std::uint64_t& out) {
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return !t.empty() && ec == std::errc{} && ptr == t.data() + t.size();
  };
  std::uint64_t n = 0;
  if (const auto dot = s.find('.'); dot != std::string::npos) {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    if (!number(std::string_view(s).substr(0, dot), hi) || !number(std::string_view(s).substr(dot + 1), lo) ||
        hi > 65535 || lo > 65535) {
      return bad;
    }
    n = hi * 65536 + lo;
  } else if (!number(s, n)) {
    return bad;
  }
  if (n > 4294967295u) return invalid(name + ": " + s + range);
  return std::optional<std::uint32_t>(static_cast<std::uint32_t>(n));
}

Result<std::optional<Address>> read_address(const json& obj, const char* key, const std::string& path) {
  std::string s;
  if (auto r = read_string(obj, key, path, s); !r) return r.error();
  if (s.empty()) return std::optional<Address>{};
  auto a = Address::parse(s);
  if (!a) return a.error().within(join_path(path, key));
  return std::optional<Address>(*a);
}

Result<std::optional<InterfaceAddress>> read_interface_address(const json& obj, const char* key,
                                                               const std::string& path) {
  std::string s;
  if (auto r = read_string(obj, key, path, s); !r) return r.error();
  if (s.empty()) return std::optional<InterfaceAddress>{};
  auto a = InterfaceAddress::parse(s);
  if (!a) return a.error().within(join_path(path, key));
  return std::optional<InterfaceAddress>(*a);
}

Result<EncapMode> read_encap(const json& obj, const char* key, const std::string& path) {
  std::string s;
  if (auto r = read_string(obj, key, path, s); !r) return r.error();
  if (s.empty() || s == "Never") return EncapMode::Never;
  if (s == "Always") return EncapMode::Always;
  if (s == "CrossSubnet") return EncapMode::CrossSubnet;
  std::string message = join_path(path, key) + ": \"" + s + "\" is not one of Always, CrossSubnet, Never";
  for (const char* m : {"Always", "CrossSubnet", "Never"}) {
    if (squash(m) == squash(s)) message += std::string(" (did you mean ") + m + "?)";
  }
  return invalid(message);
}

// Label values may come as numbers or booleans (JSON written by hand); they become their text.
Status read_string_map(const json& obj, const char* key, const std::string& path, Labels& out) {
  auto m = object_field(obj, key, path);
  if (!m) return m.error();
  if (*m == nullptr) return {};
  for (const auto& [k, v] : (*m)->items()) {
    if (v.is_string()) {
      out[k] = v.get<std::string>();
    } else if (v.is_number_integer() || v.is_boolean()) {
      out[k] = v.dump();
    } else {
      return wrong_type(join_path(join_path(path, key), k), "a string", v);
    }
  }
  return {};
}

Status read_metadata(const json& doc, Labels* labels, Labels* annotations) {
  const json& meta = doc.at("metadata");
  if (auto s = check_fields(meta, "metadata",
                            {"name", "labels", "annotations", "resourceVersion", "uid", "creationTimestamp",
                             "generation"});
      !s) {
    return s;
  }
  Labels ignored_labels;
  if (auto s = read_string_map(meta, "labels", "metadata", labels != nullptr ? *labels : ignored_labels); !s) {
    return s;
  }
  Labels ignored_annotations;  // accepted as Calico's tools write them
  return read_string_map(meta, "annotations", "metadata",
                         annotations != nullptr ? *annotations : ignored_annotations);
}

Result<const json*> read_spec(const json& doc, std::initializer_list<std::string_view> known, Labels* labels,
                              Labels* annotations) {
  if (auto s = read_metadata(doc, labels, annotations); !s) return s.error();
  auto spec = object_field(doc, "spec", "");
  if (!spec || *spec == nullptr) return spec;
  if (auto s = check_fields(**spec, "spec", known); !s) return s.error();
  return spec;
}

Result<const json*> list_field(const json& obj, const char* key, const std::string& path, std::size_t max_entries) {
  const json* v = field(obj, key);
  if (v == nullptr) return v;
  if (!v->is_array()) return wrong_type(join_path(path, key), "a list", *v);
  if (v->size() > max_entries) {
    return invalid(join_path(path, key) + ": " + std::to_string(v->size()) + " entries; at most " +
                   std::to_string(max_entries));
  }
  return v;
}

}  // namespace blockd::ipam::json_fields
