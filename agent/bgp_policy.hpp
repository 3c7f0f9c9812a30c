// What the cluster's BGPConfiguration adds to a node's route plan (Calico's BGPConfiguration
// reference): the service CIDRs every node advertises (serviceClusterIPs, serviceExternalIPs,
// serviceLoadBalancerIPs; without a Kubernetes API there are no per-service /32s) and the
// communities of spec.prefixAdvertisements on every advertised route inside their CIDRs. Pure.
#pragma once

#include "agent/bgp_configuration.hpp"
#include "agent/route_plan.hpp"

namespace blockd::agent {

// Adds the service CIDRs to plan.advertise (prefix order kept; a CIDR the plan already
// advertises is not repeated) and tags every advertisement with its communities. Communities
// that could not be resolved (config.policy_error) are left off, with a note.
// The BGPConfiguration is read in one place, effective_bgp_configuration.
void apply_bgp_policy(RoutePlan& plan, const EffectiveBgpConfiguration& config);

}  // namespace blockd::agent
