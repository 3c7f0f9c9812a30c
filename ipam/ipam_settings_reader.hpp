// The cluster-wide IPAM settings every allocation obeys, read from the store on each
// allocation as Calico's autoAssign reads its IPAMConfig and reservations: the IPAMConfiguration
// "default" (its defaults when absent) and the addresses of every IPReservation.
#pragma once

#include "ipam/reserved_addresses.hpp"
#include "ipam/resources/resources.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::ipam {

struct IpamSettings {
  IPAMConfiguration config;
  ReservedAddresses reserved;
};

// One list (IPAMConfiguration and IPReservation share a key prefix with nothing but IPPools).
Result<IpamSettings> read_ipam_settings(Datastore& store);

}  // namespace blockd::ipam
