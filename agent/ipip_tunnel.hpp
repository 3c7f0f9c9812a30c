// This node's IPIP tunnel address, as Calico's: allocated (handle ipip-tunnel-addr.<node>) from
// an IPv4 pool that selects the node, allows Tunnel use and has ipipMode other than Never, and
// published on the Node as spec.bgp.ipv4IPIPTunnelAddr; the agent puts it on the configured
// IPIP device (dataplane.ipipDevice) as a /32. The address is kept even where the kernel has no
// ipip module (the device then can not be made: logged). As Calico reconciles it, an address
// that no IPIP pool of the node contains any more (pool deleted, disabled, selector changed) is
// released and replaced.
#pragma once

#include <optional>
#include <string>

#include "agent/cluster_view.hpp"
#include "agent/config.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::agent {

class IpipTunnel {
 public:
  IpipTunnel(ipam::Datastore& store, AgentConfig::NodeSection node, AgentConfig::DataplaneSection dataplane)
      : store_(store), node_(std::move(node)), dataplane_(std::move(dataplane)) {}

  // Sets the address up if an IPIP pool selects the node and it is not up (or no longer in such
  // a pool). True when it changed: the Node resource must then be written with it.
  Result<bool> ensure(const ClusterView& view, const ipam::Labels& labels);
  const std::optional<ipam::Address>& address() const { return address_; }

 private:
  ipam::Datastore& store_;
  AgentConfig::NodeSection node_;
  AgentConfig::DataplaneSection dataplane_;
  std::optional<ipam::Address> address_;
};

}  // namespace blockd::agent
