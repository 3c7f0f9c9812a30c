#include "ipam/resources/validation.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "ipam/net/bgp_peer_rules.hpp"
#include "ipam/resources/bgp_policy_validation.hpp"
#include "ipam/resources/ipam_settings.hpp"
#include "ipam/resources/selector.hpp"

namespace blockd::ipam {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

const Prefix& v4_link_local() {
  static const Prefix p = Prefix::parse("169.254.0.0/16").value();
  return p;
}
const Prefix& v6_link_local() {
  static const Prefix p = Prefix::parse("fe80::/10").value();
  return p;
}

unsigned default_block_size(Family f) { return f == Family::V4 ? 26 : 122; }

Error field_error(const std::string& field, const std::string& rule) {
  return invalid(field + ": " + rule);
}

Status check_name(const std::string& name) {
  if (name.empty()) return field_error("metadata.name", "required");
  if (!valid_resource_name(name)) {
    return field_error("metadata.name",
                       "\"" + name + "\" is not valid (alphanumerics with optional '.', '_' or '-', "
                       "starting and ending with an alphanumeric, at most 253 characters)");
  }
  return {};
}

// The BGP speaker's rules (ipam/net/bgp_peer_rules.hpp): a resource blockctl accepts never
// holds an AS number the speaker refuses.
Status check_asn(const std::string& field, std::uint32_t asn) {
  if (asn == 0) return field_error(field, "0 is out of range (1 to 4294967295)");  // as the agent config's range
  if (auto why = as_number_problem(asn); !why.empty()) return field_error(field, why);
  return {};
}

Status check_selector(const std::string& field, const std::string& text) {
  auto sel = Selector::parse(text);
  if (!sel) return field_error(field, sel.error().message);
  return {};
}

Status check_family(const std::string& field, const Address& a, Family want) {
  if (a.family() != want) {
    return field_error(field, a.str() + " is not an " + family_name(want) + " address");
  }
  return {};
}

// Six hex pairs separated by ':' (the form Calico writes and the kernel prints).
bool valid_mac(std::string_view mac) {
  if (mac.size() != 17) return false;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    if (i % 3 == 2 ? mac[i] != ':' : !is_hex(mac[i])) return false;
  }
  return true;
}

Status check_mac(const std::string& field, const std::string& mac) {
  if (!mac.empty() && !valid_mac(mac)) {
    return field_error(field, "\"" + mac +
                                  "\" is not a MAC address (expected six hex pairs separated by ':', "
                                  "e.g. 66:d0:15:2b:7a:01)");
  }
  return {};
}

Status check_labels(const Labels& labels) {
  for (const auto& [key, value] : labels) {
    if (auto k = validate_label_key(key); !k) return field_error("metadata.labels", k.error().message);
    if (auto v = validate_label_value(value); !v) {
      return field_error("metadata.labels." + key, v.error().message);
    }
  }
  return {};
}

// Kubernetes annotation rules, as Calico's validateObjectMetaAnnotations applies them: each key
// a qualified name once lower-cased, keys and values at most 256 KiB in total.
Status check_annotations(const Labels& annotations) {
  constexpr std::size_t kMaxTotalBytes = 256 * 1024;
  std::size_t total = 0;
  for (const auto& [key, value] : annotations) {
    std::string lower = key;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (auto k = validate_label_key(lower, "annotation key"); !k) {
      return field_error("metadata.annotations", k.error().message);
    }
    total += key.size() + value.size();
  }
  if (total > kMaxTotalBytes) {
    return field_error("metadata.annotations",
                       "keys and values hold " + std::to_string(total) + " bytes, more than the " +
                           std::to_string(kMaxTotalBytes) + " (256 KiB) Kubernetes allows");
  }
  return {};
}

// Calico's CRD rule: "global() selector is not valid for IPPool nodeSelector" (global() is
// meant for a policy's namespaceSelector).
Status check_no_global(const std::string& field, const std::string& selector) {
  if (selector.find("global(") != std::string::npos) {
    return field_error(field, "global() is not valid in an IPPool (it is for a policy's "
                              "namespaceSelector); use all()");
  }
  return {};
}

// A CNI ADD names a pod's namespace at most, never the namespace's labels, so blockd cannot
// evaluate a namespaceSelector: it accepts one that picks every namespace and rejects the rest.
Status check_namespace_selector(const std::string& selector) {
  const std::string field = "spec.namespaceSelector";
  if (auto s = check_no_global(field, selector); !s) return s;
  auto sel = Selector::parse(selector);
  if (!sel) return field_error(field, sel.error().message);
  const std::string& text = sel->text();
  if (text.empty() || text == "all()") return {};
  return field_error(field, "\"" + text + "\" is not supported: blockd allocates for CNI calls, which carry no "
                            "namespace labels, so it cannot tell which namespaces a selector picks; "
                            "leave it empty or all() (every namespace) and choose pools by nodeSelector");
}

Status check_allowed_uses(std::vector<std::string>& uses) {
  if (uses.empty()) uses = {"Workload", "Tunnel"};
  for (const auto& use : uses) {
    if (use == "LoadBalancer") {
      return field_error("spec.allowedUses",
                         "LoadBalancer is not supported: LoadBalancer IPAM (addresses for Services) is "
                         "out of scope for blockd, which assigns Workload and Tunnel addresses only");
    }
    if (use != "Workload" && use != "Tunnel") {
      return field_error("spec.allowedUses", "\"" + use + "\" is not one of Workload, Tunnel");
    }
  }
  return {};
}

Status validate_pool(IPPool& p) {
  if (auto s = check_name(p.name); !s) return s;
  if (auto s = check_labels(p.labels); !s) return s;
  if (auto s = check_annotations(p.annotations); !s) return s;
  const Family f = p.cidr.family();
  const std::string fam = family_name(f);

  if (p.block_size == 0) p.block_size = default_block_size(f);
  const unsigned lo = f == Family::V4 ? 20 : 116;
  const unsigned hi = f == Family::V4 ? 32 : 128;
  if (p.block_size < lo || p.block_size > hi) {
    return field_error("spec.blockSize", std::to_string(p.block_size) + " is out of range (" +
                                             std::to_string(lo) + " to " + std::to_string(hi) +
                                             " for " + fam + ")");
  }
  const Prefix& link_local = f == Family::V4 ? v4_link_local() : v6_link_local();
  if (p.cidr.overlaps(link_local)) {
    return field_error("spec.cidr", p.cidr.str() + " overlaps the link-local range " + link_local.str());
  }
  // Calico checks the size only for enabled pools: a disabled pool never hands out a block.
  if (!p.disabled && p.cidr.length() > p.block_size) {
    return field_error("spec.cidr", p.cidr.str() + " is smaller than one block (blockSize " +
                                        std::to_string(p.block_size) +
                                        " needs a prefix length of at most " +
                                        std::to_string(p.block_size) + ")");
  }
  // Calico: "IPIPMode other than 'Never' is not supported on an IPv6 IP pool" (IPIP is IPv4 only).
  if (f == Family::V6 && p.ipip_mode != EncapMode::Never) {
    return field_error("spec.ipipMode", std::string(encap_mode_name(p.ipip_mode)) +
                                            " is not supported on an IPv6 pool (IPIP carries IPv4 "
                                            "only; use vxlanMode)");
  }
  if (p.ipip_mode != EncapMode::Never && p.vxlan_mode != EncapMode::Never) {
    return field_error("spec.vxlanMode",
                       std::string(encap_mode_name(p.vxlan_mode)) +
                           " cannot be set at the same time as ipipMode (ipipMode is " +
                           encap_mode_name(p.ipip_mode) + "; set one of them to Never)");
  }
  if (auto s = check_allowed_uses(p.allowed_uses); !s) return s;
  if (auto s = check_no_global("spec.nodeSelector", p.node_selector); !s) return s;
  auto node_selector = Selector::parse(p.node_selector);
  if (!node_selector) return field_error("spec.nodeSelector", node_selector.error().message);
  if (node_selector->text().empty()) p.node_selector = "all()";
  p.parsed_selector.selector = std::move(*node_selector);
  return check_namespace_selector(p.namespace_selector);
}

Status validate_node(Node& n) {
  if (auto s = check_name(n.name); !s) return s;
  if (auto s = check_labels(n.labels); !s) return s;
  if (n.ipv4_address) {
    if (auto s = check_family("spec.bgp.ipv4Address", n.ipv4_address->address, Family::V4); !s) return s;
  }
  if (n.ipv6_address) {
    if (auto s = check_family("spec.bgp.ipv6Address", n.ipv6_address->address, Family::V6); !s) return s;
  }
  if (n.as_number) {
    if (auto s = check_asn("spec.bgp.asNumber", *n.as_number); !s) return s;
  }
  if (n.ipv4_ipip_tunnel_addr) {
    if (auto s = check_family("spec.bgp.ipv4IPIPTunnelAddr", *n.ipv4_ipip_tunnel_addr, Family::V4); !s) {
      return s;
    }
  }
  if (!n.route_reflector_cluster_id.empty()) {
    auto id = Address::parse(n.route_reflector_cluster_id);
    if (!id || !id->is_v4()) {
      return field_error("spec.bgp.routeReflectorClusterID",
                         "\"" + n.route_reflector_cluster_id + "\" is not an IPv4 address (a cluster "
                         "ID is written like one, e.g. 224.0.0.1)");
    }
  }
  if (n.ipv4_vxlan_tunnel_addr) {
    if (auto s = check_family("spec.ipv4VXLANTunnelAddr", *n.ipv4_vxlan_tunnel_addr, Family::V4); !s) {
      return s;
    }
  }
  if (n.ipv6_vxlan_tunnel_addr) {
    if (auto s = check_family("spec.ipv6VXLANTunnelAddr", *n.ipv6_vxlan_tunnel_addr, Family::V6); !s) {
      return s;
    }
  }
  if (auto s = check_mac("spec.vxlanTunnelMACAddr", n.vxlan_tunnel_mac); !s) return s;
  if (auto s = check_mac("spec.vxlanTunnelMACAddrV6", n.vxlan_tunnel_mac_v6); !s) return s;
  for (std::size_t i = 0; i < n.addresses.size(); ++i) {
    const auto& a = n.addresses[i];
    const std::string field = "spec.addresses[" + std::to_string(i) + "]";
    const bool has_length = a.address.find('/') != std::string::npos;
    const bool parses = has_length ? InterfaceAddress::parse(a.address).ok() : Address::parse(a.address).ok();
    if (!parses) {
      return field_error(field + ".address", "\"" + a.address + "\" is not an IP address (with or "
                                             "without a prefix length)");
    }
    if (!a.type.empty() && a.type != "CalicoNodeIP" && a.type != "InternalIP" && a.type != "ExternalIP") {
      return field_error(field + ".type",
                         "\"" + a.type + "\" is not one of CalicoNodeIP, InternalIP, ExternalIP");
    }
  }
  return {};
}

Status validate_peer(BGPPeer& p) {
  if (auto s = check_name(p.name); !s) return s;
  // Calico's validateBGPPeerSpec: peerSelector takes the address and AS from the selected Nodes.
  if (!p.peer_selector.empty()) {
    if (p.peer_ip.value() != 0) return field_error("spec.peerIP", "must be empty when spec.peerSelector is set");
    if (p.as_number != 0) return field_error("spec.asNumber", "must be empty when spec.peerSelector is set (the selected Nodes' AS numbers apply)");
    if (p.port) return field_error("spec.peerIP", "must be empty when spec.peerSelector is set");
    if (auto s = check_selector("spec.peerSelector", p.peer_selector); !s) return s;
  } else if (p.peer_ip.value() == 0) {
    return field_error("spec.peerIP", p.peer_ip.str() + " is not a usable peer address");
  }
  if (p.port && *p.port == 0) return field_error("spec.peerIP", "port 0 is out of range (1 to 65535)");
  if (p.peer_selector.empty()) {
    if (p.as_number == 0) return field_error("spec.asNumber", "required (1 to 4294967295)");
    if (auto s = check_asn("spec.asNumber", p.as_number); !s) return s;
  }
  if (auto why = tcp_md5_password_problem(p.password); !why.empty()) return field_error("spec.password", why);
  if (!p.node.empty() && !valid_resource_name(p.node)) {
    return field_error("spec.node", "\"" + p.node + "\" is not a valid node name");
  }
  // Calico's validateBGPPeerSpec: "Node field must be empty when NodeSelector is specified".
  if (!p.node.empty() && !p.node_selector.empty()) {
    return field_error("spec.node", "must be empty when spec.nodeSelector is set (a peer is for one "
                                    "node or for the nodes the selector picks)");
  }
  if (p.bfd) {
    if (auto why = bfd_profile_problem(*p.bfd); !why.empty()) return field_error("spec.bfd", why);
  }
  for (std::size_t i = 0; i < p.filters.size(); ++i) {
    if (!valid_resource_name(p.filters[i])) {
      return field_error("spec.filters[" + std::to_string(i) + "]", "\"" + p.filters[i] + "\" is not a BGPFilter name");
    }
  }
  // Calico's reachableBy: a gateway to the one peerIP, of its family.
  if (p.reachable_by) {
    if (!p.peer_selector.empty()) return field_error("spec.reachableBy", "must be empty when spec.peerSelector is set");
    if (p.reachable_by->family() != p.peer_ip.family() || p.reachable_by->value() == 0) {
      return field_error("spec.reachableBy", p.reachable_by->str() + " is not a gateway address of spec.peerIP's family");
    }
  }
  if (!p.node_selector.empty()) return check_selector("spec.nodeSelector", p.node_selector);
  return {};
}

Status validate_bgp_configuration(BGPConfiguration& c) {
  if (auto s = check_name(c.name); !s) return s;
  if (c.as_number) {
    if (auto s = check_asn("spec.asNumber", *c.as_number); !s) return s;
  }
  if (c.listen_port && *c.listen_port == 0) {
    return field_error("spec.listenPort", "0 is out of range (1 to 65535)");
  }
  // Calico: asNumber and nodeToNodeMeshEnabled are cluster-wide, valid on `default` only. The
  // agent reads communities, prefixAdvertisements and service CIDRs from `default` alone
  // (agent/bgp_policy.cpp), so a node's configuration refuses them rather than store them unused.
  if (c.name != "default") {
    const std::pair<const char*, bool> cluster_wide[] = {
        {"spec.asNumber", c.as_number.has_value()},
        {"spec.nodeToNodeMeshEnabled", c.node_to_node_mesh_enabled.has_value()},
        {"spec.nodeMeshMaxRestartTime", c.node_mesh_max_restart_time.has_value()},
        {"spec.communities", !c.communities.empty()},
        {"spec.prefixAdvertisements", !c.prefix_advertisements.empty()},
        {"spec.serviceClusterIPs", !c.service_cluster_ips.empty()},
        {"spec.serviceExternalIPs", !c.service_external_ips.empty()},
        {"spec.serviceLoadBalancerIPs", !c.service_load_balancer_ips.empty()},
    };
    for (const auto& [field, set] : cluster_wide) {
      if (set) return field_error(field, "only valid on the BGPConfiguration named default");
    }
  }
  const auto& sev = c.log_severity_screen;
  if (!sev.empty() && sev != "Debug" && sev != "Info" && sev != "Warning" && sev != "Error" &&
      sev != "Fatal") {
    return field_error("spec.logSeverityScreen",
                       "\"" + sev + "\" is not one of Debug, Info, Warning, Error, Fatal");
  }
  return validate_bgp_policy_config(c);
}

Status validate_bgp_filter(BGPFilter& f) {
  if (auto s = check_name(f.name); !s) return s;
  return validate_filter_rules(f);
}

}  // namespace

bool valid_resource_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (!is_alnum(name.front()) || !is_alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

Status validate(Resource& r) {
  struct Rules {
    Status operator()(IPPool& x) const { return validate_pool(x); }
    Status operator()(Node& x) const { return validate_node(x); }
    Status operator()(BGPPeer& x) const { return validate_peer(x); }
    Status operator()(BGPConfiguration& x) const { return validate_bgp_configuration(x); }
    Status operator()(IPReservation& x) const { return validate_ip_reservation(x); }
    Status operator()(IPAMConfiguration& x) const { return validate_ipam_configuration(x); }
    Status operator()(BGPFilter& x) const { return validate_bgp_filter(x); }
  };
  Status s = std::visit(Rules{}, r);
  if (!s) {
    const std::string name = name_of(r);
    return s.error().within(name.empty() ? kind_of(r) : kind_of(r) + " " + name);
  }
  return {};
}

Status validate_peer_for_node(const BGPPeer& peer, const Node& node) {
  if (!peer.peer_selector.empty()) return {};  // peers with the selected Nodes' own addresses
  const bool v4 = peer.peer_ip.is_v4();
  if (v4 ? node.ipv4_address.has_value() : node.ipv6_address.has_value()) return {};
  return invalid("BGPPeer " + peer.name + ": spec.peerIP: " + peer.peer_ip.str() + " is " +
                 family_name(peer.peer_ip.family()) + " but node " + node.name + " has no spec.bgp." +
                 (v4 ? "ipv4Address" : "ipv6Address") + " to peer from");
}

Status validate_pool_change(const IPPool& pool, const std::vector<IPPool>& existing,
                            const IPPool* previous) {
  const std::string who = "IPPool " + pool.name;
  for (const auto& other : existing) {
    if (other.name == pool.name) continue;  // the stored version of this same pool
    if (pool.cidr.overlaps(other.cidr)) {
      return invalid(who + ": spec.cidr: " + pool.cidr.str() + " overlaps IPPool " + other.name +
                     " (" + other.cidr.str() + ")");
    }
  }
  if (previous != nullptr) {
    // Calico: "IPPool CIDR cannot be modified": the blocks, affinities and running workloads
    // of the old range would be orphaned (create a new pool and delete this one instead).
    if (previous->cidr != pool.cidr) {
      return invalid(who + ": spec.cidr: cannot be modified (it is " + previous->cidr.str() + ", the new version has " +
                     pool.cidr.str() + "; create a new pool, then delete this one)");
    }
    auto effective = [](const IPPool& p) {
      return p.block_size != 0 ? p.block_size : default_block_size(p.cidr.family());
    };
    if (effective(*previous) != effective(pool)) {
      return invalid(who + ": spec.blockSize: cannot change after the pool is created (it is " +
                     std::to_string(effective(*previous)) + ", the new version has " +
                     std::to_string(effective(pool)) + "; create a new pool instead)");
    }
  }
  return {};
}

}  // namespace blockd::ipam
