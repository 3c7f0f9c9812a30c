// This node's VXLAN tunnel endpoint: its address (Calico's IPv4VXLANTunnelAddr: the configured
// dataplane.vtepAddress, else an address of the node's own from a VXLAN pool, handle
// vxlan-tunnel-addr.<node>), its MAC and the VXLAN device. Set up once, as soon as an IPv4
// VXLAN pool selects the node (or the config names a VTEP address).
#pragma once

#include <optional>
#include <string>

#include "agent/cluster_view.hpp"
#include "agent/config.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::agent {

class VxlanTunnel {
 public:
  // program_kernel false: the address is reserved, no device is made (dataplane.programKernel).
  VxlanTunnel(ipam::Datastore& store, AgentConfig::NodeSection node, AgentConfig::DataplaneSection dataplane)
      : store_(store), node_(std::move(node)), dataplane_(std::move(dataplane)) {}

  // Sets the endpoint up if the node needs one and it is not up yet (labels: this node's).
  // True when it just came up: the Node resource must then be written with its address and MAC.
  Result<bool> ensure(const ClusterView& view, const ipam::Labels& labels);

  bool ready() const { return ready_; }
  const std::optional<ipam::Address>& address() const { return address_; }
  const std::string& mac() const { return mac_; }

 private:
  // The VTEP address from the view or, the first time, from a VXLAN pool.
  Result<ipam::Address> reserve_address(const ClusterView& view, const ipam::Labels& labels);

  ipam::Datastore& store_;
  AgentConfig::NodeSection node_;
  AgentConfig::DataplaneSection dataplane_;
  bool ready_ = false;
  std::optional<ipam::Address> address_;
  std::string mac_;
};

}  // namespace blockd::agent
