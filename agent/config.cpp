#include "agent/config.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "agent/bounded_input.hpp"
#include "bgp/speaker.hpp"
#include "ipam/net/bgp_peer_rules.hpp"
#include "ipam/resources/validation.hpp"

namespace blockd::agent {
namespace {

using ipam::Address;
using ipam::InterfaceAddress;

// Reads one mapping, refusing fields it does not know (a typo must not become a default).
class Section {
 public:
  Section(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {}

  Status check_fields(std::initializer_list<const char*> known) const {
    if (!node_) return {};
    if (!node_.IsMap()) return invalid(where() + ": expected a mapping");
    std::set<std::string> names(known.begin(), known.end());
    for (const auto& kv : node_) {
      const auto key = kv.first.as<std::string>();
      if (!names.count(key)) return invalid(field(key) + ": unknown field");
    }
    return {};
  }
  bool has(const char* key) const { return node_ && node_[key] && !node_[key].IsNull(); }
  Section child(const char* key) const { return {node_ ? node_[key] : YAML::Node(), field(key)}; }
  const YAML::Node& node() const { return node_; }
  std::string field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string where() const { return path_.empty() ? "config" : path_; }

  Result<std::string> text(const char* key) const {
    try {
      return node_[key].as<std::string>();
    } catch (const std::exception&) {
      return invalid(field(key) + ": expected a string");
    }
  }
  template <class Int>
  Result<Int> number(const char* key, long long min, long long max) const {
    long long v = 0;
    try {
      v = node_[key].as<long long>();
    } catch (const std::exception&) {
      return invalid(field(key) + ": expected a whole number");
    }
    if (v < min || v > max) {
      return invalid(field(key) + ": " + std::to_string(v) + " is out of range (" + std::to_string(min) + " to " +
                     std::to_string(max) + ")");
    }
    return static_cast<Int>(v);
  }
  Result<bool> boolean(const char* key) const {
    try {
      return node_[key].as<bool>();
    } catch (const std::exception&) {
      return invalid(field(key) + ": expected true or false");
    }
  }
  Result<Address> address(const char* key) const {
    auto t = text(key);
    if (!t) return t.error();
    auto a = Address::parse(*t);
    if (!a) return invalid(field(key) + ": " + a.error().message);
    return a;
  }

  // Optional fields: an absent (or null) one leaves `out` at its default.
  template <class Target>
  Status maybe_text(const char* key, Target& out) const { return assign_if_present(key, out, [&] { return text(key); }); }
  template <class Target>
  Status maybe_boolean(const char* key, Target& out) const {
    return assign_if_present(key, out, [&] { return boolean(key); });
  }
  template <class Target>
  Status maybe_address(const char* key, Target& out) const {
    return assign_if_present(key, out, [&] { return address(key); });
  }
  template <class Int, class Target>
  Status maybe_number(const char* key, long long min, long long max, Target& out) const {
    return assign_if_present(key, out, [&] { return number<Int>(key, min, max); });
  }

 private:
  template <class Target, class Read>
  Status assign_if_present(const char* key, Target& out, Read read) const {
    if (!has(key)) return {};
    auto value = read();
    if (!value) return value.error();
    out = std::move(*value);
    return {};
  }

  YAML::Node node_;
  std::string path_;
};

#define TRY(var, expr)            \
  auto var##_r = (expr);          \
  if (!var##_r) return var##_r.error(); \
  auto var = std::move(*var##_r)

Status read_node(const Section& s, AgentConfig::NodeSection& node) {
  if (!s.node()) return invalid("node: required (name, address)");
  if (auto ok = s.check_fields({"name", "labels", "address", "addressV6", "asNumber", "routerId"}); !ok) return ok;
  if (!s.has("name")) return invalid("node.name: required");
  TRY(name, s.text("name"));
  if (!ipam::valid_resource_name(name)) {
    return invalid("node.name: \"" + name + "\" is not a valid node name (alphanumerics with '.', '_' or '-')");
  }
  node.name = name;
  if (s.has("labels")) {
    const auto labels = s.node()["labels"];
    if (!labels.IsMap()) return invalid("node.labels: expected a mapping of label to value");
    for (const auto& kv : labels) {
      const auto key = kv.first.as<std::string>();
      if (!kv.second.IsScalar()) return invalid("node.labels." + key + ": expected a value");
      node.labels[key] = kv.second.as<std::string>();
    }
  }
  if (!s.has("address")) return invalid("node.address: required (underlay address with its subnet, e.g. 10.0.0.10/24)");
  TRY(address, s.text("address"));
  auto ia = InterfaceAddress::parse(address);
  if (!ia) return invalid("node.address: " + ia.error().message);
  if (!ia->address.is_v4()) return invalid("node.address: must be IPv4 (use node.addressV6 for IPv6)");
  node.address = *ia;
  if (s.has("addressV6")) {
    TRY(v6, s.text("addressV6"));
    auto ia6 = InterfaceAddress::parse(v6);
    if (!ia6) return invalid("node.addressV6: " + ia6.error().message);
    if (ia6->address.is_v4()) return invalid("node.addressV6: must be IPv6");
    node.address_v6 = *ia6;
  }
  if (s.has("asNumber")) {
    TRY(asn, s.template number<std::uint32_t>("asNumber", 1, 4294967295LL));
    if (auto why = as_number_problem(asn); !why.empty()) return invalid("node.asNumber: " + why);
    node.as_number = asn;
  }
  node.router_id = node.address.address;
  if (s.has("routerId")) {
    TRY(rid, s.address("routerId"));
    if (!rid.is_v4()) return invalid("node.routerId: must be an IPv4 address (the BGP identifier)");
    node.router_id = rid;
  }
  return {};
}

// A peer's bfd: MetalLB's BFDProfile fields, each optional, limits as bfd_profile_problem says.
Result<BfdProfile> read_bfd(const Section& s) {
  if (auto ok = s.check_fields({"receiveInterval", "transmitInterval", "detectMultiplier"}); !ok) return ok.error();
  BfdProfile profile;
  for (auto [key, target] : {std::pair{"receiveInterval", &profile.receive_interval_ms},
                             std::pair{"transmitInterval", &profile.transmit_interval_ms},
                             std::pair{"detectMultiplier", &profile.detect_multiplier}}) {
    if (auto ok = s.template maybe_number<std::uint32_t>(key, 0, 4294967295LL, *target); !ok) return ok.error();
  }
  if (auto why = bfd_profile_problem(profile); !why.empty()) return invalid(s.where() + ": " + why);
  return profile;
}

// The peers are checked as the speaker checks them (bgp::validate), so a config the agent
// accepts never has a peer the speaker refuses.
Status read_bgp(const Section& s, const AgentConfig::NodeSection& node, AgentConfig::BgpSection& bgp) {
  if (auto ok = s.check_fields({"listenPort", "listenAddress", "peers", "gracefulRestart", "holdTime"}); !ok) return ok;
  if (auto ok = s.template maybe_number<std::uint16_t>("listenPort", 0, 65535, bgp.listen_port); !ok) return ok;
  if (auto ok = s.maybe_address("listenAddress", bgp.listen_address); !ok) return ok;
  if (s.has("holdTime")) {
    TRY(h, s.template number<std::uint16_t>("holdTime", 0, 65535));
    if (h == 1 || h == 2) return invalid("bgp.holdTime: 1 and 2 are not allowed (0 or at least 3; RFC 4271 4.2)");
    bgp.hold_time = h;
  }
  if (s.has("gracefulRestart")) {
    Section gr = s.child("gracefulRestart");
    if (auto ok = gr.check_fields({"enabled", "restartTime"}); !ok) return ok;
    if (auto ok = gr.maybe_boolean("enabled", bgp.graceful_restart); !ok) return ok;
    // RFC 4724 §3: the Restart Time field has 12 bits.
    if (auto ok = gr.template maybe_number<std::uint16_t>("restartTime", 1, 4095, bgp.restart_time); !ok) return ok;
  }
  if (s.has("peers")) {
    const auto peers = s.node()["peers"];
    if (!peers.IsSequence()) return invalid("bgp.peers: expected a list");
    for (std::size_t i = 0; i < peers.size(); ++i) {
      Section p(peers[i], "bgp.peers[" + std::to_string(i) + "]");
      if (auto ok = p.check_fields({"address", "asNumber", "password", "passwordFile", "port", "passive", "bfd",
                                    "localAddress"});
          !ok) {
        return ok;
      }
      ConfigPeer peer;
      if (!p.has("address")) return invalid(p.field("address") + ": required");
      TRY(a, p.address("address"));
      peer.address = a;
      if (!p.has("asNumber")) return invalid(p.field("asNumber") + ": required");
      if (!a.is_v4() && !node.address_v6) {
        return invalid(p.field("address") + ": " + a.str() + " is IPv6 but node.addressV6 is not set: no address to peer from");
      }
      TRY(asn, p.template number<std::uint32_t>("asNumber", 1, 4294967295LL));
      if (auto why = as_number_problem(asn); !why.empty()) return invalid(p.field("asNumber") + ": " + why);
      peer.as_number = asn;
      if (p.has("password") && p.has("passwordFile")) {
        return invalid(p.field("passwordFile") + ": give password or passwordFile, not both");
      }
      // passwordFile: the TCP-MD5 key kept out of the config (a file only root reads), as
      // Calico keeps it in a Secret; one trailing newline is not part of it.
      std::string pw_field = "password";
      if (p.has("passwordFile")) {
        TRY(path, p.text("passwordFile"));
        auto key = read_file_bounded(path, kMaxTcpMd5Password + 2, p.field("passwordFile") + " " + path);
        if (!key) return key.error();
        if (!key->empty() && key->back() == '\n') key->pop_back();
        if (key->empty()) return invalid(p.field("passwordFile") + ": " + path + " is empty");
        peer.password = *key;
        pw_field = "passwordFile";
      }
      if (auto ok = p.maybe_text("password", peer.password); !ok) return ok;
      if (auto why = tcp_md5_password_problem(peer.password); !why.empty()) return invalid(p.field(pw_field) + ": " + why);
      if (auto ok = p.template maybe_number<std::uint16_t>("port", 1, 65535, peer.port); !ok) return ok;
      if (auto ok = p.maybe_boolean("passive", peer.passive); !ok) return ok;
      if (p.has("localAddress")) {
        TRY(local, p.address("localAddress"));
        if (local.family() != a.family()) {
          return invalid(p.field("localAddress") + ": " + local.str() + " is " + ipam::family_name(local.family()) +
                         " but the peer " + a.str() + " is " + ipam::family_name(a.family()));
        }
        peer.local_address = local;
      }
      if (p.has("bfd")) {
        auto bfd = read_bfd(p.child("bfd"));
        if (!bfd) return bfd.error();
        peer.bfd = *bfd;
      }
      for (const auto& other : bgp.peers) {
        if (other.address == peer.address) return invalid(p.field("address") + ": " + a.str() + " is listed twice");
      }
      bgp.peers.push_back(peer);
    }
  }
  return {};
}

bool valid_device_name(const std::string& n) {
  // Linux IFNAMSIZ is 16 including the NUL; no '/', no whitespace, not "." or "..".
  if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
  for (char c : n) {
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

Status read_dataplane(const Section& s, AgentConfig::DataplaneSection& dp) {
  if (auto ok = s.check_fields({"uplink", "ipipDevice", "vxlanDevice", "vxlanVNI", "vxlanPort", "routeProtocol",
                                "vtepAddress", "vtepMAC", "programKernel"});
      !ok) {
    return ok;
  }
  for (auto [key, target] : {std::pair{"uplink", &dp.uplink}, {"ipipDevice", &dp.ipip_device},
                             {"vxlanDevice", &dp.vxlan_device}}) {
    if (!s.has(key)) continue;
    TRY(name, s.text(key));
    if (!valid_device_name(name)) {
      return invalid(s.field(key) + ": \"" + name + "\" is not a valid interface name (1 to 15 characters, no '/', ':' or spaces)");
    }
    *target = name;
  }
  if (auto ok = s.template maybe_number<std::uint32_t>("vxlanVNI", 1, 16777215, dp.vxlan_vni); !ok) return ok;
  if (auto ok = s.template maybe_number<std::uint16_t>("vxlanPort", 1, 65535, dp.vxlan_port); !ok) return ok;
  // Below 5 are the kernel's own (unspec, redirect, kernel, boot, static); 255 is reserved.
  if (auto ok = s.template maybe_number<std::uint8_t>("routeProtocol", 5, 254, dp.route_protocol); !ok) return ok;
  if (auto ok = s.maybe_address("vtepAddress", dp.vtep_address); !ok) return ok;
  if (auto ok = s.maybe_text("vtepMAC", dp.vtep_mac); !ok) return ok;
  if (auto ok = s.maybe_boolean("programKernel", dp.program_kernel); !ok) return ok;
  return {};
}

}  // namespace

Result<AgentConfig> parse_agent_config(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return invalid(std::string("config: not valid YAML: ") + e.what());
  }
  if (!root.IsMap()) return invalid("config: expected a mapping with node, datastore, bgp, dataplane, control, log");
  Section top(root, "");
  if (auto ok = top.check_fields({"node", "datastore", "bgp", "dataplane", "ipam", "control", "log"}); !ok) {
    return ok.error();
  }
  AgentConfig config;
  if (auto ok = read_node(top.child("node"), config.node); !ok) return ok.error();
  if (top.has("datastore")) {
    TRY(ds, top.text("datastore"));
    if (!ds.starts_with("sqlite:///") && !ds.starts_with("etcd://")) {
      return invalid("datastore: \"" + ds + "\" is not sqlite:///abs/path.db or etcd://host:port[,host:port]");
    }
    config.datastore = ds;
  }
  if (auto ok = read_bgp(top.child("bgp"), config.node, config.bgp); !ok) return ok.error();
  if (auto ok = read_dataplane(top.child("dataplane"), config.dataplane); !ok) return ok.error();
  Section ipam_section = top.child("ipam");
  if (auto ok = ipam_section.check_fields({"releaseEmptyBlocks"}); !ok) return ok.error();
  if (auto ok = ipam_section.maybe_boolean("releaseEmptyBlocks", config.ipam.release_empty_blocks); !ok) return ok.error();
  Section control = top.child("control");
  if (auto ok = control.check_fields({"socket", "metrics"}); !ok) return ok.error();
  if (control.has("socket")) {
    TRY(sock, control.text("socket"));
    if (sock.empty() || sock.front() != '/') return invalid("control.socket: must be an absolute path");
    if (sock.size() >= 108) return invalid("control.socket: longer than a Unix socket path may be (107)");
    config.control.socket = sock;
  }
  if (control.has("metrics")) {
    TRY(m, control.text("metrics"));
    const auto colon = m.rfind(':');
    if (!m.empty()) {
      auto host = colon == std::string::npos ? Result<Address>(invalid("x")) : Address::parse(m.substr(0, colon));
      if (!host || (host->is_v4() ? (host->v4_value() >> 24) != 127 : host->str() != "::1")) {
        return invalid("control.metrics: \"" + m + "\" must be a loopback address and port, e.g. 127.0.0.1:9095");
      }
      auto port_text = m.substr(colon + 1);
      if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string::npos || std::stol(port_text) > 65535) {
        return invalid("control.metrics: \"" + m + "\": port must be a number from 0 to 65535");
      }
    }
    config.control.metrics = m;
  }
  Section log = top.child("log");
  if (auto ok = log.check_fields({"level"}); !ok) return ok.error();
  if (log.has("level")) {
    TRY(level, log.text("level"));
    static const std::set<std::string> levels = {"trace", "debug", "info", "warning", "warn", "error", "critical", "off"};
    if (!levels.count(level)) return invalid("log.level: \"" + level + "\" is not one of trace, debug, info, warning, error, critical, off");
    config.log_level = level;
  }
  return config;
}

Result<AgentConfig> load_agent_config(const std::string& path) {
  auto text = read_file_bounded(path, kMaxConfigFileBytes, "--config " + path);
  if (!text) return text.error();
  auto config = parse_agent_config(*text);
  if (!config) return config.error().within(path);
  return config;
}

}  // namespace blockd::agent
