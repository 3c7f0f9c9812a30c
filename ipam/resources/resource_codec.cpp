#include "ipam/resources/resource_codec.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <regex>
#include <set>

#include "ipam/resources/validation.hpp"

namespace blockd::ipam {
namespace {

using nlohmann::json;

constexpr const char* kCalicoApiVersion = "projectcalico.org/v3";
constexpr const char* kBlockdApiVersion = "blockd.io/v1";
constexpr int kMaxYamlDepth = 64;
constexpr std::size_t kMaxYamlValues = 100000;  // per document; bounds alias expansion

// ---------------------------------------------------------------------------------------------
// YAML -> JSON. Plain scalars are typed as YAML 1.2's core schema does (null, bool, int; the rest
// are strings); quoted scalars always stay strings. Label and annotation values keep their text.

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// One document of the stream and the 0-based line of the stream where it starts.
struct DocumentText {
  std::string text;
  std::size_t first_line = 0;
};

bool marker_line(std::string_view line, std::string_view marker) {
  return line.starts_with(marker) &&
         (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r' || line[3] == '\n');
}

// Splits a stream at its document markers: "---" starts a document and "..." ends one, both at
// the start of a line (YAML 1.2 §9.1). Each document is then parsed on its own, because
// yaml-cpp 0.7's LoadAll can loop forever on malformed input (jbeder/yaml-cpp#1319).
std::vector<DocumentText> split_documents(std::string_view s) {
  std::vector<DocumentText> docs(1);
  std::size_t line_no = 0;
  while (!s.empty()) {
    const auto nl = s.find('\n');
    const std::string_view line = s.substr(0, nl == std::string_view::npos ? s.size() : nl + 1);
    s.remove_prefix(line.size());
    if (marker_line(line, "---")) {
      docs.push_back({std::string(line), line_no});
    } else if (marker_line(line, "...")) {
      docs.push_back({"", line_no + 1});
    } else {
      docs.back().text += line;
    }
    ++line_no;
  }
  return docs;
}

// Whether a document holds anything besides blank lines, comments, directives and its marker.
bool has_content(std::string_view doc) {
  while (!doc.empty()) {
    const auto nl = doc.find('\n');
    std::string_view line = doc.substr(0, nl);
    doc.remove_prefix(nl == std::string_view::npos ? doc.size() : nl + 1);
    if (line.starts_with('%')) continue;
    if (marker_line(line, "---")) line.remove_prefix(3);
    const auto first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] != '#') return true;
  }
  return false;
}

std::string at_line(const YAML::Node& n, std::size_t line_offset) {
  const auto mark = n.Mark();
  if (mark.line < 0) return "";
  return " (line " + std::to_string(static_cast<std::size_t>(mark.line) + line_offset + 1) + ")";
}

// YAML streams are UTF-8 (YAML 1.2 §5.2); stored JSON must be too, so bad bytes stop here.
// Returns the offset of the first byte that is not part of valid UTF-8, or npos.
std::size_t first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool valid_utf8(std::string_view s) { return first_invalid_utf8(s) == std::string_view::npos; }

// YAML 1.2 §5.1: a stream holds printable characters only (tab, line breaks and no other C0
// control). Checked before yaml-cpp sees the text: yaml-cpp 0.7 can loop forever on a NUL byte.
Status check_stream(std::string_view s) {
  const std::size_t bad_utf8 = first_invalid_utf8(s);
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    auto at = [&](const std::string& what) {
      return invalid("YAML: line " + std::to_string(line) + ", column " + std::to_string(i - line_start + 1) +
                     ": " + what);
    };
    if (i == bad_utf8) return at("the text is not valid UTF-8");
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    } else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(c));
      return at(std::string("the control character ") + hex + " is not allowed in YAML");
    }
  }
  return {};
}

json plain_scalar(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  auto parse_unsigned = [](std::string_view digits, int base) -> std::optional<std::uint64_t> {
    std::uint64_t v = 0;
    if (digits.empty()) return std::nullopt;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
    return v;
  };
  std::string_view v = s;
  if (v.starts_with("0x")) {
    if (auto n = parse_unsigned(v.substr(2), 16)) return *n;
    return s;
  }
  if (v.starts_with("0o")) {
    if (auto n = parse_unsigned(v.substr(2), 8)) return *n;
    return s;
  }
  bool negative = false;
  if (v.starts_with('-') || v.starts_with('+')) {
    negative = v.front() == '-';
    v.remove_prefix(1);
  }
  if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return s;
  }
  auto n = parse_unsigned(v, 10);
  if (!n) return s;  // too large for 64 bits: left as text, the field's decoder says what it wants
  if (!negative) return *n;
  if (*n > static_cast<std::uint64_t>(INT64_MAX)) return s;
  return -static_cast<std::int64_t>(*n);
}

class YamlToJson {
 public:
  explicit YamlToJson(std::size_t line_offset) : line_offset_(line_offset) {}

  Result<json> convert(const YAML::Node& n, const std::string& path, bool keep_text, int depth) {
    if (++values_ > kMaxYamlValues) {
      return invalid("the document holds more than " + std::to_string(kMaxYamlValues) + " values");
    }
    if (depth > kMaxYamlDepth) {
      return invalid((path.empty() ? std::string("the document") : path) + ": nested deeper than " +
                     std::to_string(kMaxYamlDepth) + " levels" + at_line(n, line_offset_));
    }
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return json(nullptr);
      case YAML::NodeType::Scalar: {
        if (!valid_utf8(n.Scalar())) {
          return invalid((path.empty() ? std::string("the document") : path) + ": the value is not valid UTF-8" +
                         at_line(n, line_offset_));
        }
        const std::string& tag = n.Tag();
        const bool plain = tag == "?" || tag == "tag:yaml.org,2002:int" ||
                           tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null";
        if (keep_text || !plain) return json(n.Scalar());
        return plain_scalar(n.Scalar());
      }
      case YAML::NodeType::Sequence: {
        json out = json::array();
        std::size_t i = 0;
        for (const auto& item : n) {
          auto v = convert(item, path + "[" + std::to_string(i++) + "]", false, depth + 1);
          if (!v) return v.error();
          out.push_back(std::move(*v));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        json out = json::object();
        // Label and annotation values are strings: `rack: 0` means the label value "0".
        const bool text_values = path == "metadata.labels" || path == "metadata.annotations" ||
                                 path.ends_with("].metadata.labels") ||
                                 path.ends_with("].metadata.annotations");
        for (const auto& kv : n) {
          if (!kv.first.IsScalar()) {
            return invalid((path.empty() ? std::string("the document") : path) +
                           (kv.first.IsNull() ? ": an entry has no key"
                                              : ": a key must be a plain word, not a list or mapping") +
                           at_line(kv.first, line_offset_));
          }
          const std::string key = kv.first.Scalar();
          if (!valid_utf8(key)) {
            return invalid((path.empty() ? std::string("the document") : path) + ": a key is not valid UTF-8" +
                           at_line(kv.first, line_offset_));
          }
          const std::string child = join_path(path, key);
          if (out.contains(key)) return invalid("duplicate field " + child + at_line(kv.first, line_offset_));
          auto v = convert(kv.second, child, text_values, depth + 1);
          if (!v) return v.error();
          out[key] = std::move(*v);
        }
        return out;
      }
    }
    return json(nullptr);
  }

 private:
  std::size_t line_offset_;
  std::size_t values_ = 0;
};

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
      if (squash(k) == squash(key)) {
        message += " (did you mean " + join_path(path, std::string(k)) + "?)";
        break;
      }
    }
    return invalid(message);
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
                                               const std::string& range_note = "") {
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

Status read_metadata(const json& doc, Labels* labels) {
  const json& meta = doc.at("metadata");
  if (auto s = check_fields(meta, "metadata",
                            {"name", "labels", "annotations", "resourceVersion", "uid", "creationTimestamp",
                             "generation"});
      !s) {
    return s;
  }
  Labels ignored;
  if (auto s = read_string_map(meta, "labels", "metadata", labels != nullptr ? *labels : ignored); !s) return s;
  Labels annotations;  // accepted as Calico's tools write them; blockd does not use them
  return read_string_map(meta, "annotations", "metadata", annotations);
}

Result<IPPool> decode_pool(const json& doc, std::string name) {
  IPPool p;
  p.name = std::move(name);
  if (auto s = read_metadata(doc, nullptr); !s) return s.error();
  auto spec = object_field(doc, "spec", "");
  if (!spec) return spec.error();
  if (*spec == nullptr) return invalid("spec: required (an IPPool needs at least spec.cidr)");
  const json& sp = **spec;
  const std::string path = "spec";
  if (auto s = check_fields(sp, path,
                            {"cidr", "blockSize", "ipipMode", "vxlanMode", "natOutgoing", "disabled",
                             "nodeSelector", "allowedUses", "strictAffinity"});
      !s) {
    return s.error();
  }
  std::string cidr;
  if (auto s = read_string(sp, "cidr", path, cidr); !s) return s.error();
  if (cidr.empty()) return invalid("spec.cidr: required (e.g. 192.168.0.0/24)");
  if (cidr.find('/') == std::string::npos) {
    return invalid("spec.cidr: \"" + cidr + "\" is not a CIDR (expected address/length, e.g. 192.168.0.0/24)");
  }
  auto prefix = Prefix::parse(cidr);
  if (!prefix) return prefix.error().within("spec.cidr");
  p.cidr = *prefix;
  const bool v4 = p.cidr.is_v4();
  auto block = read_uint(sp, "blockSize", path, v4 ? 20 : 116, v4 ? 32 : 128,
                         std::string(" for ") + family_name(p.cidr.family()));
  if (!block) return block.error();
  if (*block) p.block_size = static_cast<unsigned>(**block);
  auto ipip = read_encap(sp, "ipipMode", path);
  if (!ipip) return ipip.error();
  p.ipip_mode = *ipip;
  auto vxlan = read_encap(sp, "vxlanMode", path);
  if (!vxlan) return vxlan.error();
  p.vxlan_mode = *vxlan;
  if (auto s = read_bool(sp, "natOutgoing", path, p.nat_outgoing); !s) return s.error();
  if (auto s = read_bool(sp, "disabled", path, p.disabled); !s) return s.error();
  if (auto s = read_string(sp, "nodeSelector", path, p.node_selector); !s) return s.error();
  if (auto parsed = Selector::parse(p.node_selector)) p.parsed_selector.selector = *parsed;
  if (auto s = read_bool(sp, "strictAffinity", path, p.strict_affinity); !s) return s.error();
  if (const json* uses = field(sp, "allowedUses")) {
    if (!uses->is_array()) return wrong_type("spec.allowedUses", "a list", *uses);
    p.allowed_uses.clear();
    for (std::size_t i = 0; i < uses->size(); ++i) {
      const json& u = (*uses)[i];
      if (!u.is_string()) return wrong_type("spec.allowedUses[" + std::to_string(i) + "]", "a string", u);
      p.allowed_uses.push_back(u.get<std::string>());
    }
  }
  return p;
}

Result<Node> decode_node(const json& doc, std::string name) {
  Node n;
  n.name = std::move(name);
  if (auto s = read_metadata(doc, &n.labels); !s) return s.error();
  auto spec = object_field(doc, "spec", "");
  if (!spec) return spec.error();
  if (*spec == nullptr) return n;
  const json& sp = **spec;
  // orchRefs is written by Calico's own tools; accepted and not used.
  if (auto s = check_fields(sp, "spec",
                            {"bgp", "ipv4VXLANTunnelAddr", "vxlanTunnelMACAddr", "ipv6VXLANTunnelAddr",
                             "vxlanTunnelMACAddrV6", "addresses", "orchRefs"});
      !s) {
    return s.error();
  }
  auto bgp = object_field(sp, "bgp", "spec");
  if (!bgp) return bgp.error();
  if (*bgp != nullptr) {
    const json& b = **bgp;
    const std::string path = "spec.bgp";
    if (auto s = check_fields(b, path,
                              {"ipv4Address", "ipv6Address", "asNumber", "ipv4IPIPTunnelAddr",
                               "routeReflectorClusterID"});
        !s) {
      return s.error();
    }
    auto v4 = read_interface_address(b, "ipv4Address", path);
    if (!v4) return v4.error();
    n.ipv4_address = *v4;
    auto v6 = read_interface_address(b, "ipv6Address", path);
    if (!v6) return v6.error();
    n.ipv6_address = *v6;
    auto asn = read_asn(b, "asNumber", path);
    if (!asn) return asn.error();
    n.as_number = *asn;
    auto ipip = read_address(b, "ipv4IPIPTunnelAddr", path);
    if (!ipip) return ipip.error();
    n.ipv4_ipip_tunnel_addr = *ipip;
    if (auto s = read_string(b, "routeReflectorClusterID", path, n.route_reflector_cluster_id); !s) {
      return s.error();
    }
  }
  auto vx4 = read_address(sp, "ipv4VXLANTunnelAddr", "spec");
  if (!vx4) return vx4.error();
  n.ipv4_vxlan_tunnel_addr = *vx4;
  auto vx6 = read_address(sp, "ipv6VXLANTunnelAddr", "spec");
  if (!vx6) return vx6.error();
  n.ipv6_vxlan_tunnel_addr = *vx6;
  if (auto s = read_string(sp, "vxlanTunnelMACAddr", "spec", n.vxlan_tunnel_mac); !s) return s.error();
  if (auto s = read_string(sp, "vxlanTunnelMACAddrV6", "spec", n.vxlan_tunnel_mac_v6); !s) return s.error();
  if (const json* addrs = field(sp, "addresses")) {
    if (!addrs->is_array()) return wrong_type("spec.addresses", "a list", *addrs);
    for (std::size_t i = 0; i < addrs->size(); ++i) {
      const std::string path = "spec.addresses[" + std::to_string(i) + "]";
      const json& a = (*addrs)[i];
      if (!a.is_object()) return wrong_type(path, "a mapping with address and type", a);
      if (auto s = check_fields(a, path, {"address", "type"}); !s) return s.error();
      NodeAddress na;
      if (auto s = read_string(a, "address", path, na.address); !s) return s.error();
      if (na.address.empty()) return invalid(path + ".address: required");
      if (auto s = read_string(a, "type", path, na.type); !s) return s.error();
      n.addresses.push_back(std::move(na));
    }
  }
  return n;
}

// peerIP is an address, "v4:port" or "[v6]:port", as Calico writes it.
Status read_peer_ip(const std::string& s, BGPPeer& p) {
  const std::string field = "spec.peerIP";
  std::string addr = s;
  std::string port;
  if (s.starts_with('[')) {
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return invalid(field + ": \"" + s + "\" is not an address or [IPv6]:port");
    }
    addr = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    const auto colon = s.find(':');
    addr = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  auto a = Address::parse(addr);
  if (!a) return a.error().within(field);
  p.peer_ip = *a;
  if (addr == s) return {};  // no port
  if (s.starts_with('[') && a->is_v4()) {
    return invalid(field + ": \"" + s + "\": brackets are for IPv6 addresses (write " + addr + ":" + port + ")");
  }
  unsigned n = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || n > 65535) {
    return invalid(field + ": \"" + s + "\": port \"" + port + "\" is not a number from 1 to 65535");
  }
  p.port = static_cast<std::uint16_t>(n);
  return {};
}

Result<BGPPeer> decode_peer(const json& doc, std::string name) {
  BGPPeer p;
  p.name = std::move(name);
  if (auto s = read_metadata(doc, nullptr); !s) return s.error();
  auto spec = object_field(doc, "spec", "");
  if (!spec) return spec.error();
  if (*spec == nullptr) return invalid("spec: required (a BGPPeer needs spec.peerIP and spec.asNumber)");
  const json& sp = **spec;
  const std::string path = "spec";
  if (auto s = check_fields(sp, path, {"peerIP", "asNumber", "node", "nodeSelector", "password"}); !s) {
    return s.error();
  }
  std::string peer_ip;
  if (auto s = read_string(sp, "peerIP", path, peer_ip); !s) return s.error();
  if (peer_ip.empty()) return invalid("spec.peerIP: required");
  if (auto s = read_peer_ip(peer_ip, p); !s) return s.error();
  auto asn = read_asn(sp, "asNumber", path);
  if (!asn) return asn.error();
  p.as_number = asn->value_or(0);
  if (auto s = read_string(sp, "node", path, p.node); !s) return s.error();
  if (auto s = read_string(sp, "nodeSelector", path, p.node_selector); !s) return s.error();
  if (const json* pw = field(sp, "password"); pw != nullptr && pw->is_object()) {
    return invalid("spec.password: secret references (secretKeyRef) are not supported; give the "
                   "password as a plain string");
  }
  if (auto s = read_string(sp, "password", path, p.password); !s) return s.error();
  return p;
}

Result<BGPConfiguration> decode_bgp_configuration(const json& doc, std::string name) {
  BGPConfiguration c;
  c.name = std::move(name);
  if (auto s = read_metadata(doc, nullptr); !s) return s.error();
  auto spec = object_field(doc, "spec", "");
  if (!spec) return spec.error();
  if (*spec == nullptr) return c;
  const json& sp = **spec;
  const std::string path = "spec";
  if (auto s = check_fields(sp, path, {"asNumber", "listenPort", "nodeToNodeMeshEnabled", "logSeverityScreen"});
      !s) {
    return s.error();
  }
  auto asn = read_asn(sp, "asNumber", path);
  if (!asn) return asn.error();
  c.as_number = *asn;
  auto port = read_uint(sp, "listenPort", path, 1, 65535);
  if (!port) return port.error();
  if (*port) c.listen_port = static_cast<std::uint16_t>(**port);
  if (field(sp, "nodeToNodeMeshEnabled") != nullptr) {
    bool mesh = false;
    if (auto s = read_bool(sp, "nodeToNodeMeshEnabled", path, mesh); !s) return s.error();
    c.node_to_node_mesh_enabled = mesh;
  }
  if (auto s = read_string(sp, "logSeverityScreen", path, c.log_severity_screen); !s) return s.error();
  return c;
}

const std::vector<std::string>& kinds() {
  static const std::vector<std::string> k = {"IPPool", "Node", "BGPPeer", "BGPConfiguration"};
  return k;
}

// ---------------------------------------------------------------------------------------------
// JSON -> YAML: strings that a YAML reader would take for a number, boolean or null are quoted.

bool looks_like_non_string(const std::string& s) {
  static const std::set<std::string> words = {
      "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes",
      "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
      ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN"};
  if (words.contains(s)) return true;
  static const std::regex number(
      R"([-+]?(0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|[0-9][0-9_:]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?|\.[0-9]+([eE][-+]?[0-9]+)?))");
  return s.size() < 64 && std::regex_match(s, number);
}

void emit(YAML::Emitter& out, const json& j) {
  switch (j.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [k, v] : j.items()) {
        out << YAML::Key;
        if (looks_like_non_string(k)) out << YAML::DoubleQuoted;
        out << k << YAML::Value;
        emit(out, v);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& v : j) emit(out, v);
      out << YAML::EndSeq;
      break;
    case json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (looks_like_non_string(s)) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case json::value_t::boolean:
      out << j.get<bool>();
      break;
    case json::value_t::number_unsigned:
      out << j.get<std::uint64_t>();
      break;
    case json::value_t::number_integer:
      out << j.get<std::int64_t>();
      break;
    case json::value_t::number_float:
      out << j.get<double>();
      break;
    default:
      out << YAML::Null;
      break;
  }
}

json document(const std::string& kind, const std::string& name) {
  return json{{"apiVersion", kCalicoApiVersion}, {"kind", kind}, {"metadata", {{"name", name}}}};
}

std::string peer_ip_text(const BGPPeer& p) {
  if (!p.port) return p.peer_ip.str();
  const std::string port = std::to_string(*p.port);
  return p.peer_ip.is_v4() ? p.peer_ip.str() + ":" + port : "[" + p.peer_ip.str() + "]:" + port;
}

struct ToJson {
  json operator()(const IPPool& p) const {
    json d = document("IPPool", p.name);
    json spec = {{"cidr", p.cidr.str()},
                 {"ipipMode", encap_mode_name(p.ipip_mode)},
                 {"vxlanMode", encap_mode_name(p.vxlan_mode)},
                 {"natOutgoing", p.nat_outgoing},
                 {"disabled", p.disabled},
                 {"nodeSelector", p.node_selector},
                 {"allowedUses", p.allowed_uses}};
    if (p.block_size != 0) spec["blockSize"] = p.block_size;
    if (p.strict_affinity) spec["strictAffinity"] = true;
    d["spec"] = std::move(spec);
    return d;
  }
  json operator()(const Node& n) const {
    json d = document("Node", n.name);
    if (!n.labels.empty()) d["metadata"]["labels"] = n.labels;
    json spec = json::object();
    json bgp = json::object();
    if (n.ipv4_address) bgp["ipv4Address"] = n.ipv4_address->str();
    if (n.ipv6_address) bgp["ipv6Address"] = n.ipv6_address->str();
    if (n.as_number) bgp["asNumber"] = *n.as_number;
    if (n.ipv4_ipip_tunnel_addr) bgp["ipv4IPIPTunnelAddr"] = n.ipv4_ipip_tunnel_addr->str();
    if (!n.route_reflector_cluster_id.empty()) bgp["routeReflectorClusterID"] = n.route_reflector_cluster_id;
    if (!bgp.empty()) spec["bgp"] = std::move(bgp);
    if (n.ipv4_vxlan_tunnel_addr) spec["ipv4VXLANTunnelAddr"] = n.ipv4_vxlan_tunnel_addr->str();
    if (!n.vxlan_tunnel_mac.empty()) spec["vxlanTunnelMACAddr"] = n.vxlan_tunnel_mac;
    if (n.ipv6_vxlan_tunnel_addr) spec["ipv6VXLANTunnelAddr"] = n.ipv6_vxlan_tunnel_addr->str();
    if (!n.vxlan_tunnel_mac_v6.empty()) spec["vxlanTunnelMACAddrV6"] = n.vxlan_tunnel_mac_v6;
    if (!n.addresses.empty()) {
      json addrs = json::array();
      for (const auto& a : n.addresses) {
        json e = {{"address", a.address}};
        if (!a.type.empty()) e["type"] = a.type;
        addrs.push_back(std::move(e));
      }
      spec["addresses"] = std::move(addrs);
    }
    d["spec"] = std::move(spec);
    return d;
  }
  json operator()(const BGPPeer& p) const {
    json d = document("BGPPeer", p.name);
    json spec = {{"peerIP", peer_ip_text(p)}, {"asNumber", p.as_number}};
    if (!p.node.empty()) spec["node"] = p.node;
    if (!p.node_selector.empty()) spec["nodeSelector"] = p.node_selector;
    if (!p.password.empty()) spec["password"] = p.password;
    d["spec"] = std::move(spec);
    return d;
  }
  json operator()(const BGPConfiguration& c) const {
    json d = document("BGPConfiguration", c.name);
    json spec = json::object();
    if (c.as_number) spec["asNumber"] = *c.as_number;
    if (c.listen_port) spec["listenPort"] = *c.listen_port;
    if (c.node_to_node_mesh_enabled) spec["nodeToNodeMeshEnabled"] = *c.node_to_node_mesh_enabled;
    if (!c.log_severity_screen.empty()) spec["logSeverityScreen"] = c.log_severity_screen;
    d["spec"] = std::move(spec);
    return d;
  }
};

Result<Resource> decode(const json& doc) {
  if (!doc.is_object()) {
    return invalid("expected a mapping (a resource with apiVersion, kind, metadata and spec), got " +
                   describe(doc));
  }
  const json* api = field(doc, "apiVersion");
  if (api == nullptr) return invalid(std::string("apiVersion: required (") + kCalicoApiVersion + ")");
  if (!api->is_string()) return wrong_type("apiVersion", "a string", *api);
  const auto& api_version = api->get_ref<const std::string&>();
  if (api_version != kCalicoApiVersion && api_version != kBlockdApiVersion) {
    return invalid("apiVersion: \"" + api_version + "\" is not supported (expected " + kCalicoApiVersion +
                   " or " + kBlockdApiVersion + ")");
  }
  const json* kind_json = field(doc, "kind");
  const std::string expected_kinds = "IPPool, Node, BGPPeer or BGPConfiguration";
  if (kind_json == nullptr) return invalid("kind: required (one of " + expected_kinds + ")");
  if (!kind_json->is_string()) return wrong_type("kind", "a string", *kind_json);
  const auto& kind = kind_json->get_ref<const std::string&>();
  if (std::find(kinds().begin(), kinds().end(), kind) == kinds().end()) {
    std::string message = "kind: \"" + kind + "\" is not supported (expected " + expected_kinds + ")";
    for (const auto& k : kinds()) {
      if (squash(k) == squash(kind)) message += " (did you mean " + k + "?)";
    }
    return invalid(message);
  }
  auto meta = object_field(doc, "metadata", "");
  if (!meta) return meta.error().within(kind);
  if (*meta == nullptr) return invalid(kind + ": metadata.name: required");
  std::string name;
  if (auto s = read_string(**meta, "name", "metadata", name); !s) return s.error().within(kind);
  if (name.empty()) return invalid(kind + ": metadata.name: required");
  const std::string who = kind + " " + name;

  // status is written by Calico's tools (calicoctl get -o yaml); it is output, not input.
  if (auto s = check_fields(doc, "", {"apiVersion", "kind", "metadata", "spec", "status"}); !s) {
    return s.error().within(who);
  }
  auto wrap = [&](auto r) -> Result<Resource> {
    if (!r) return r.error().within(who);
    return Resource(std::move(*r));
  };
  if (kind == "IPPool") return wrap(decode_pool(doc, name));
  if (kind == "Node") return wrap(decode_node(doc, name));
  if (kind == "BGPPeer") return wrap(decode_peer(doc, name));
  return wrap(decode_bgp_configuration(doc, name));
}

}  // namespace

Result<Resource> resource_from_json(const json& doc) { return decode(doc); }

json resource_to_json(const Resource& r) { return std::visit(ToJson{}, r); }

std::string resource_to_yaml(const Resource& r) {
  YAML::Emitter out;
  emit(out, resource_to_json(r));
  return std::string(out.c_str()) + "\n";
}

Result<std::vector<Resource>> parse_resources_yaml(std::string_view yaml) {
  if (auto s = check_stream(yaml); !s) return s.error();
  std::vector<Resource> out;
  std::size_t number = 0;  // of the non-empty documents, as a user counts them
  for (const auto& text : split_documents(yaml)) {
    YAML::Node node;
    Result<json> doc = json(nullptr);
    try {
      node = YAML::Load(text.text);
      if (node.IsNull() && !has_content(text.text)) continue;  // e.g. a trailing --- or only comments
      doc = YamlToJson(text.first_line).convert(node, "", false, 0);
    } catch (const YAML::ParserException& e) {
      return invalid("YAML syntax error at line " + std::to_string(e.mark.line + text.first_line + 1) +
                     ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
    } catch (const std::exception& e) {
      return invalid(std::string("YAML error: ") + e.what());
    }
    const std::string where = "document " + std::to_string(++number);
    if (!doc) return doc.error().within(where);

    // A List (as `calicoctl get -o yaml` writes it) expands to its items.
    std::vector<std::pair<std::string, json>> items;
    const json* kind = doc->is_object() ? field(*doc, "kind") : nullptr;
    if (kind != nullptr && kind->is_string() && kind->get_ref<const std::string&>().ends_with("List") &&
        doc->contains("items")) {
      const json& list = (*doc)["items"];
      if (!list.is_array()) return wrong_type("items", "a list", list).within(where);
      const std::string list_kind = kind->get<std::string>();
      const std::string item_kind = list_kind == "List" ? "" : list_kind.substr(0, list_kind.size() - 4);
      for (std::size_t j = 0; j < list.size(); ++j) {
        json item = list[j];
        if (item.is_object()) {
          if (!item.contains("apiVersion") && doc->contains("apiVersion")) item["apiVersion"] = (*doc)["apiVersion"];
          if (!item.contains("kind") && !item_kind.empty()) item["kind"] = item_kind;
        }
        items.emplace_back(where + " item " + std::to_string(j + 1), std::move(item));
      }
    } else {
      items.emplace_back(where, std::move(*doc));
    }

    for (auto& [label, item] : items) {
      auto r = decode(item);
      if (!r) return r.error().within(label);
      if (auto s = validate(*r); !s) return s.error().within(label);
      out.push_back(std::move(*r));
    }
  }
  return out;
}

}  // namespace blockd::ipam
