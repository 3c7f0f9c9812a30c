// Where everything lives in the Datastore (keys under /blockd/v1/).
//   /blockd/v1/resources/<kind>/<name>           a resource in Calico's JSON shape
//   /blockd/v1/ipam/blocks/<block key>           an AllocationBlock
//   /blockd/v1/ipam/affinity/<node>/<block key>  index: the blocks affine to a node
//   /blockd/v1/ipam/handles/<handle>             a handle and the blocks holding its addresses
// Block keys are fixed width and in address order ("192.168.000.064-26",
// "fd00:0000:...:0040-122"), so the blocks of a pool are one range read.
#pragma once

#include <string>

#include "ipam/net/prefix.hpp"

namespace blockd::ipam::keys {

inline const std::string kResources = "/blockd/v1/resources/";
inline const std::string kBlocks = "/blockd/v1/ipam/blocks/";
inline const std::string kAffinity = "/blockd/v1/ipam/affinity/";
inline const std::string kHandles = "/blockd/v1/ipam/handles/";

std::string block_id(const Prefix& block);
Result<Prefix> block_from_id(const std::string& id);
inline std::string block(const Prefix& b) { return kBlocks + block_id(b); }
inline std::string affinity(const std::string& node, const Prefix& b) {
  return kAffinity + node + "/" + block_id(b);
}
inline std::string node_affinities(const std::string& node) { return kAffinity + node + "/"; }
std::string handle(const std::string& handle_id);
// The longest key prefix shared by every block key inside pool (a superset range: filter).
std::string blocks_within(const Prefix& pool);
// The resource kind's folder: "IPPool" -> /blockd/v1/resources/ippools/
std::string resource_folder(const std::string& kind);

}  // namespace blockd::ipam::keys
