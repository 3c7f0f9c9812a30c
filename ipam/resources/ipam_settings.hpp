// The two cluster-wide IPAM resources of Calico: IPReservation (addresses IPAM never hands
// out) and IPAMConfiguration (strictAffinity, maxBlocksPerHost, autoAllocateBlocks): their
// JSON decoding, encoding and rules. resource_codec.cpp and validation.cpp dispatch here.
#pragma once

#include <nlohmann/json.hpp>

#include "ipam/net/result.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::ipam {

// At most this many reservedCIDRs in one IPReservation (input size limit).
inline constexpr std::size_t kMaxReservedCidrs = 1024;

Result<IPReservation> decode_ip_reservation(const nlohmann::json& doc, std::string name);
Result<IPAMConfiguration> decode_ipam_configuration(const nlohmann::json& doc, std::string name);
// The spec of each (apiVersion, kind and metadata are the caller's).
nlohmann::json ip_reservation_spec(const IPReservation& r);
nlohmann::json ipam_configuration_spec(const IPAMConfiguration& c);

Status validate_ip_reservation(const IPReservation& r);
// Calico: the only IPAMConfiguration is "default".
Status validate_ipam_configuration(const IPAMConfiguration& c);

}  // namespace blockd::ipam
