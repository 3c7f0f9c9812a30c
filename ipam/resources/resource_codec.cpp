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

#include "ipam/resources/bgp_policy_codec.hpp"
#include "ipam/resources/ipam_settings.hpp"
#include "ipam/resources/json_fields.hpp"
#include "ipam/resources/validation.hpp"
#include "ipam/resources/yaml_documents.hpp"

namespace blockd::ipam {
namespace {

using nlohmann::json;
using namespace json_fields;

constexpr const char* kCalicoApiVersion = "projectcalico.org/v3";
constexpr const char* kBlockdApiVersion = "blockd.io/v1";

// Absent or null: Automatic, Calico's CRD default. An explicit "" is an error, as the CRD enum.
Result<AssignmentMode> read_assignment_mode(const json& spec) {
  const json* v = field(spec, "assignmentMode");
  if (v == nullptr) return AssignmentMode::Automatic;
  if (!v->is_string()) return wrong_type("spec.assignmentMode", "Automatic or Manual", *v);
  const auto& s = v->get_ref<const std::string&>();
  if (s == "Automatic") return AssignmentMode::Automatic;
  if (s == "Manual") return AssignmentMode::Manual;
  std::string message = "spec.assignmentMode: \"" + s + "\" is not one of Automatic, Manual";
  for (const char* m : {"Automatic", "Manual"}) {
    if (squash(m) == squash(s)) message += std::string(" (did you mean ") + m + "?)";
  }
  return invalid(message);
}

Result<IPPool> decode_pool(const json& doc, std::string name) {
  IPPool p;
  p.name = std::move(name);
  auto spec = read_spec(doc,
                        {"cidr", "blockSize", "ipipMode", "vxlanMode", "natOutgoing", "disabled", "nodeSelector",
                         "namespaceSelector", "allowedUses", "assignmentMode", "strictAffinity", "disableBGPExport"},
                        &p.labels, &p.annotations);
  if (!spec) return spec.error();
  if (*spec == nullptr) return invalid("spec: required (an IPPool needs at least spec.cidr)");
  const json& sp = **spec;
  const std::string path = "spec";
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
  if (auto s = read_string(sp, "namespaceSelector", path, p.namespace_selector); !s) return s.error();
  auto mode = read_assignment_mode(sp);
  if (!mode) return mode.error();
  p.assignment_mode = *mode;
  if (auto s = read_bool(sp, "strictAffinity", path, p.strict_affinity); !s) return s.error();
  if (auto s = read_bool(sp, "disableBGPExport", path, p.disable_bgp_export); !s) return s.error();
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
  // orchRefs is written by Calico's own tools; accepted and not used.
  auto spec = read_spec(doc,
                        {"bgp", "ipv4VXLANTunnelAddr", "vxlanTunnelMACAddr", "ipv6VXLANTunnelAddr",
                         "vxlanTunnelMACAddrV6", "addresses", "orchRefs"},
                        &n.labels);
  if (!spec) return spec.error();
  if (*spec == nullptr) return n;
  const json& sp = **spec;
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

// spec.bfd: {receiveInterval, transmitInterval, detectMultiplier}, each optional (defaults as
// BfdProfile has them); the limits are validation's (validate_peer).
Status read_bfd(const json& spec, std::optional<BfdProfile>& out) {
  auto bfd = object_field(spec, "bfd", "spec");
  if (!bfd) return bfd.error();
  if (*bfd == nullptr) return {};
  const json& b = **bfd;
  const std::string path = "spec.bfd";
  if (auto s = check_fields(b, path, {"receiveInterval", "transmitInterval", "detectMultiplier"}); !s) return s;
  BfdProfile profile;
  for (auto [key, target] : {std::pair{"receiveInterval", &profile.receive_interval_ms},
                             std::pair{"transmitInterval", &profile.transmit_interval_ms},
                             std::pair{"detectMultiplier", &profile.detect_multiplier}}) {
    auto v = read_uint(b, key, path, 0, 0xffffffffU);
    if (!v) return v.error();
    if (*v) *target = static_cast<std::uint32_t>(**v);
  }
  out = profile;
  return {};
}

Result<BGPPeer> decode_peer(const json& doc, std::string name) {
  BGPPeer p;
  p.name = std::move(name);
  auto spec = read_spec(doc, {"peerIP", "asNumber", "node", "nodeSelector", "peerSelector", "password", "bfd",
                              "sourceAddress",
                              // bgp_policy_codec.cpp:
                              "ttlSecurity", "keepOriginalNextHop", "maxRestartTime", "numAllowedLocalASNumbers",
                              "filters", "reachableBy"});
  if (!spec) return spec.error();
  if (*spec == nullptr) return invalid("spec: required (a BGPPeer needs spec.peerIP and spec.asNumber)");
  const json& sp = **spec;
  const std::string path = "spec";
  if (auto s = read_string(sp, "peerSelector", path, p.peer_selector); !s) return s.error();
  std::string peer_ip;
  if (auto s = read_string(sp, "peerIP", path, peer_ip); !s) return s.error();
  if (peer_ip.empty() && p.peer_selector.empty()) return invalid("spec.peerIP: required (or spec.peerSelector)");
  if (!peer_ip.empty()) {
    if (auto s = read_peer_ip(peer_ip, p); !s) return s.error();
  }
  auto asn = read_asn(sp, "asNumber", path);
  if (!asn) return asn.error();
  p.as_number = asn->value_or(0);
  if (auto s = read_string(sp, "node", path, p.node); !s) return s.error();
  if (auto s = read_string(sp, "nodeSelector", path, p.node_selector); !s) return s.error();
  if (const json* pw = field(sp, "password"); pw != nullptr && pw->is_object()) {
    return invalid("spec.password: secretKeyRef needs the Kubernetes API, which blockd does not use; give the "
                   "password as a plain string, or in a file with bgp.peers[].passwordFile in the agent config");
  }
  if (auto s = read_string(sp, "password", path, p.password); !s) return s.error();
  if (auto s = read_bfd(sp, p.bfd); !s) return s.error();
  std::string source;
  if (auto s = read_string(sp, "sourceAddress", path, source); !s) return s.error();
  if (source == "None") {
    p.source_address = SourceAddress::None;
  } else if (!source.empty() && source != "UseNodeIP") {
    return invalid("spec.sourceAddress: \"" + source.substr(0, 64) + "\" is neither UseNodeIP nor None");
  }
  if (auto s = read_peer_options(sp, p); !s) return s.error();
  return p;
}

Result<BGPConfiguration> decode_bgp_configuration(const json& doc, std::string name) {
  BGPConfiguration c;
  c.name = std::move(name);
  auto spec = read_spec(doc, {"asNumber", "listenPort", "nodeToNodeMeshEnabled", "logSeverityScreen",
                              // bgp_policy_codec.cpp:
                              "communities", "prefixAdvertisements", "serviceClusterIPs", "serviceExternalIPs",
                              "serviceLoadBalancerIPs", "bindMode", "nodeMeshMaxRestartTime"});
  if (!spec) return spec.error();
  if (*spec == nullptr) return c;
  const json& sp = **spec;
  const std::string path = "spec";
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
  if (auto s = read_bgp_policy_config(sp, c); !s) return s.error();
  return c;
}

const std::vector<std::string>& kinds() {
  static const std::vector<std::string> k = {"IPPool",        "Node",         "BGPPeer",
                                             "BGPConfiguration", "BGPFilter", "IPReservation",
                                             "IPAMConfiguration"};
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
                 {"allowedUses", p.allowed_uses},
                 {"assignmentMode", assignment_mode_name(p.assignment_mode)}};
    if (!p.labels.empty()) d["metadata"]["labels"] = p.labels;
    if (!p.annotations.empty()) d["metadata"]["annotations"] = p.annotations;
    if (!p.namespace_selector.empty()) spec["namespaceSelector"] = p.namespace_selector;
    if (p.block_size != 0) spec["blockSize"] = p.block_size;
    if (p.strict_affinity) spec["strictAffinity"] = true;
    if (p.disable_bgp_export) spec["disableBGPExport"] = true;
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
    json spec = json::object();
    if (p.peer_selector.empty()) spec = {{"peerIP", peer_ip_text(p)}, {"asNumber", p.as_number}};
    else spec["peerSelector"] = p.peer_selector;
    if (!p.node.empty()) spec["node"] = p.node;
    if (!p.node_selector.empty()) spec["nodeSelector"] = p.node_selector;
    if (!p.password.empty()) spec["password"] = p.password;
    if (p.bfd) {
      spec["bfd"] = {{"receiveInterval", p.bfd->receive_interval_ms},
                     {"transmitInterval", p.bfd->transmit_interval_ms},
                     {"detectMultiplier", p.bfd->detect_multiplier}};
    }
    if (p.source_address == SourceAddress::None) spec["sourceAddress"] = "None";
    write_peer_options(p, spec);
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
    write_bgp_policy_config(c, spec);
    d["spec"] = std::move(spec);
    return d;
  }
  json operator()(const BGPFilter& f) const {
    json d = document("BGPFilter", f.name);
    d["spec"] = bgp_filter_spec(f);
    return d;
  }
  json operator()(const IPReservation& r) const {
    json d = document("IPReservation", r.name);
    d["spec"] = ip_reservation_spec(r);
    return d;
  }
  json operator()(const IPAMConfiguration& c) const {
    json d = document("IPAMConfiguration", c.name);
    d["spec"] = ipam_configuration_spec(c);
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
  const std::string expected_kinds =
      "IPPool, Node, BGPPeer, BGPConfiguration, BGPFilter, IPReservation or IPAMConfiguration";
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
  if (kind == "BGPFilter") return wrap(decode_bgp_filter(doc, name));
  if (kind == "IPReservation") return wrap(decode_ip_reservation(doc, name));
  if (kind == "IPAMConfiguration") return wrap(decode_ipam_configuration(doc, name));
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
  std::vector<Resource> out;
  auto each = [&](json doc, const std::string& where) -> Status {
    // A List (as `calicoctl get -o yaml` writes it) expands to its items.
    std::vector<std::pair<std::string, json>> items;
    const json* kind = doc.is_object() ? field(doc, "kind") : nullptr;
    if (kind != nullptr && kind->is_string() && kind->get_ref<const std::string&>().ends_with("List") &&
        doc.contains("items")) {
      const json& list = doc["items"];
      if (!list.is_array()) return wrong_type("items", "a list", list).within(where);
      const std::string list_kind = kind->get<std::string>();
      const std::string item_kind = list_kind == "List" ? "" : list_kind.substr(0, list_kind.size() - 4);
      for (std::size_t j = 0; j < list.size(); ++j) {
        json item = list[j];
        if (item.is_object()) {
          if (!item.contains("apiVersion") && doc.contains("apiVersion")) item["apiVersion"] = doc["apiVersion"];
          if (!item.contains("kind") && !item_kind.empty()) item["kind"] = item_kind;
        }
        items.emplace_back(where + " item " + std::to_string(j + 1), std::move(item));
      }
    } else {
      items.emplace_back(where, std::move(doc));
    }

    for (auto& [label, item] : items) {
      auto r = decode(item);
      if (!r) return r.error().within(label);
      if (auto s = validate(*r); !s) return s.error().within(label);
      out.push_back(std::move(*r));
    }
    return {};
  };
  if (auto s = for_each_yaml_document(yaml, each); !s) return s.error();
  return out;
}

}  // namespace blockd::ipam
