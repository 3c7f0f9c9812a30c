// Rules of the BGP policy fields (validation.cpp calls these): BGPConfiguration's communities,
// prefixAdvertisements and service CIDRs; BGPFilter rules. Errors name the field.
#pragma once

#include "ipam/net/result.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::ipam {

Status validate_bgp_policy_config(const BGPConfiguration& c);
Status validate_filter_rules(const BGPFilter& f);

}  // namespace blockd::ipam
