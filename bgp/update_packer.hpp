// Update packing: turns a RibDiff into as few UPDATE messages as fit the size limit.
// Prefixes sharing an attribute set share messages; withdrawals are packed likewise, IPv4 ones
// in the Withdrawn Routes field and IPv6 ones in MP_UNREACH_NLRI (RFC 4760 §4).
#pragma once

#include <vector>

#include "bgp/rib.hpp"

namespace blockd::bgp {

struct PackOptions {
  bool four_octet_as = true;
  std::size_t max_message_size = kMaxMessageSize;  // 65535 with RFC 8654
};

// The diff's prefixes must be sorted (as AdjRibOut::diff leaves them).
std::vector<Bytes> pack_updates(const RibDiff& diff, const AttributeSets& sets, const PackOptions& options);

}  // namespace blockd::bgp
