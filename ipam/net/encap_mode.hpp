// How a pool's traffic between nodes is encapsulated (Calico IPPool ipipMode/vxlanMode): the
// resources carry it, the route planner and netlink's decide_path act on it.
#pragma once

namespace blockd::ipam {

enum class EncapMode { Never, Always, CrossSubnet };
const char* encap_mode_name(EncapMode m);

}  // namespace blockd::ipam
