// blockd's configuration file (ARCHITECTURE.md, "Agent configuration"). Every field is checked at
// start; an error names the field and the rule: `node.address: "10.0.0.10" needs a prefix length`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ipam/net/bfd_profile.hpp"
#include "ipam/net/prefix.hpp"
#include "ipam/resources/resources.hpp"
#include "ipam/net/result.hpp"

namespace blockd::agent {

struct ConfigPeer {
  ipam::Address address;
  std::uint32_t as_number = 0;
  std::string password;
  std::uint16_t port = 179;
  bool passive = false;
  std::optional<BfdProfile> bfd;  // bfd: {receiveInterval, transmitInterval, detectMultiplier}
  // localAddress: the session starts from it (a node with two uplinks peers from each);
  // none: the kernel picks the source, as for a BGPPeer with sourceAddress None.
  std::optional<ipam::Address> local_address;
};

struct AgentConfig {
  struct NodeSection {
    std::string name;
    ipam::Labels labels;
    ipam::InterfaceAddress address;  // underlay address and subnet (CrossSubnet uses it)
    std::optional<ipam::InterfaceAddress> address_v6;
    // Absent: the Node's spec.bgp.asNumber, else BGPConfiguration default's asNumber, else 64512.
    std::optional<std::uint32_t> as_number;
    ipam::Address router_id;  // defaults to the IPv4 address
  } node;
  std::string datastore = "sqlite:///var/lib/blockd/blockd.db";
  struct BgpSection {
    std::optional<std::uint16_t> listen_port;  // absent: BGPConfiguration's listenPort, else 179
    std::optional<ipam::Address> listen_address;
    std::vector<ConfigPeer> peers;
    bool graceful_restart = true;
    std::uint16_t restart_time = 120;
    std::uint16_t hold_time = 90;
  } bgp;
  struct DataplaneSection {
    std::string uplink = "eth0";
    std::string ipip_device = "tunl0";
    std::string vxlan_device = "vxlan.blockd";
    std::uint32_t vxlan_vni = 4096;
    std::uint16_t vxlan_port = 4789;
    std::uint8_t route_protocol = 200;
    std::optional<ipam::Address> vtep_address;  // default: first address of this node's block
    std::string vtep_mac;                       // default: derived from the node name
    bool program_kernel = true;                 // false: compute and show routes, write none
  } dataplane;
  struct IpamSection {
    // Give a block back to its pool when its last workload is released, so its route is
    // withdrawn at once (Calico keeps empty affine blocks; set false for that).
    bool release_empty_blocks = true;
  } ipam;
  struct ControlSection {
    std::string socket = "/run/blockd/blockd.sock";
    std::string metrics = "127.0.0.1:9095";  // empty: no metrics listener
  } control;
  std::optional<std::string> log_level;  // absent: BGPConfiguration's logSeverityScreen, else info
};

Result<AgentConfig> parse_agent_config(const std::string& yaml_text);
Result<AgentConfig> load_agent_config(const std::string& path);

}  // namespace blockd::agent
