// The JSON of Calico's BGP policy fields (resource_codec.cpp calls these for its kinds):
// BGPConfiguration's communities, prefixAdvertisements and service CIDRs, BGPPeer's session
// options and filters, and the BGPFilter kind. Errors name the field path.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ipam/net/result.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::ipam {

Status read_bgp_policy_config(const nlohmann::json& spec, BGPConfiguration& c);
void write_bgp_policy_config(const BGPConfiguration& c, nlohmann::json& spec);
Status read_peer_options(const nlohmann::json& spec, BGPPeer& p);
void write_peer_options(const BGPPeer& p, nlohmann::json& spec);

// A BGPFilter document (metadata already checked by the caller).
Result<BGPFilter> decode_bgp_filter(const nlohmann::json& doc, std::string name);
nlohmann::json bgp_filter_spec(const BGPFilter& f);

// Go's time.Duration text as Kubernetes writes it ("120s", "2m", "1h30m", "1m0s"), in whole
// seconds; bounded, so no overflow.
Result<std::uint64_t> parse_duration_seconds(const std::string& text);

}  // namespace blockd::ipam
