// What the cluster's BGPConfiguration adds to a node's route plan (Calico's BGPConfiguration
// reference): the service CIDRs every node advertises (serviceClusterIPs, serviceExternalIPs,
// serviceLoadBalancerIPs; without a Kubernetes API there are no per-service /32s) and the
// communities of spec.prefixAdvertisements on every advertised route inside their CIDRs. Pure.
#pragma once

#include "agent/cluster_view.hpp"
#include "agent/route_plan.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::agent {

// The one place the agent reads the BGPConfiguration from the store: Calico's cluster-wide
// `default` (a node-specific `node.<name>` does not carry these fields in Calico). nullptr: none.
const ipam::BGPConfiguration* default_bgp_configuration(const ClusterView& view);

// Adds the service CIDRs to plan.advertise (prefix order kept; a CIDR the plan already
// advertises is not repeated) and tags every advertisement with its communities. An invalid
// configuration (blockctl refuses it, so only a hand-written store holds one) adds nothing and
// leaves a note.
void apply_bgp_policy(RoutePlan& plan, const ipam::BGPConfiguration* config);

}  // namespace blockd::agent
