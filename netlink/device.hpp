// blockd's own devices: the VXLAN device and the IPIP device. ensure_* creates the device or
// brings an existing one to the configuration (recreating it when an immutable parameter such
// as the VNI differs); each call opens its own netlink socket in the calling thread's network
// namespace. A device of the same name but another kind is never touched: that is an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ipam/net/prefix.hpp"
#include "ipam/net/result.hpp"
#include "netlink/route.hpp"

namespace blockd::netlink {

struct VxlanDeviceConfig {
  std::string name = "vxlan.blockd";  // dataplane.vxlanDevice
  std::uint32_t vni = 4096;           // dataplane.vxlanVNI
  std::uint16_t port = 4789;          // dataplane.vxlanPort (IANA VXLAN, RFC 7348 §5)
  std::string uplink;                 // dataplane.uplink: the parent device
  Address local;                      // this node's underlay address: the outer source address
  Mac mac;                            // this node's VTEP MAC
  // The VTEP address on the device (Calico's IPv4VXLANTunnelAddr), as /32 or /128; optional.
  std::optional<ipam::InterfaceAddress> address;
  // 0: the uplink MTU less the encapsulation (Calico: 50 over IPv4, 70 over IPv6).
  std::uint32_t mtu = 0;
  Status validate() const;
};

struct IpipDeviceConfig {
  std::string name = "tunl0";  // dataplane.ipipDevice
  std::string uplink;
  std::optional<Address> local;
  std::uint32_t mtu = 0;       // 0: the uplink MTU less 20 (the outer IPv4 header)
  // The node's IPIP tunnel address (Calico's ipv4IPIPTunnelAddr, a /32), assigned when set.
  std::optional<ipam::InterfaceAddress> address;
};

// Creates or repairs the VXLAN device: learning off, the VNI, port, local address and MAC,
// the MTU, up; then assigns `address` if set.
Status ensure_vxlan_device(const VxlanDeviceConfig& config);
// Creates or repairs the IPIP device. On a kernel without the ipip module this is an
// Unavailable error saying so (nothing is changed).
Status ensure_ipip_device(const IpipDeviceConfig& config);
// Adds (or replaces) an address on an existing device of any kind: the IPIP tunnel address
// (ensure_ipip_device uses it; tests give it a stand-in device where the kernel has no ipip).
Status ensure_device_address(const std::string& device, const ipam::InterfaceAddress& a);
// Removes the device if it exists and is of `kind` ("vxlan", "ipip"); absent is success.
Status delete_device(const std::string& name, const std::string& kind);

}  // namespace blockd::netlink
