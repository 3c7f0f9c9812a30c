// The cluster-wide IPAM settings every allocation obeys, as Calico's autoAssign reads its
// IPAMConfig and reservations: the IPAMConfiguration "default" (its defaults when absent) and
// the addresses of every IPReservation, with the store revision they were read at.
//
// The allocator keeps them between allocations rather than reading them for each (one round
// trip of two on etcd), and every commit of an allocation carries `guards()`: a compare, in the
// same transaction as the block's, that no reservation or IPAMConfiguration (nor IPPool, which
// shares their key prefix) was written since that revision. A reservation or a stricter
// configuration written before an allocation starts thus makes its commit fail, and the
// allocator reads the settings again and retries: it is honoured exactly as with a read per
// allocation. A watch-refreshed cache alone could not
// promise that (the watch lags the write). Deletions leave no key to compare: a deleted
// reservation or configuration only makes the cached settings stricter than the store's, so
// the allocator reads them again before it reports that no address is free.
#pragma once

#include <cstdint>
#include <vector>

#include "ipam/reserved_addresses.hpp"
#include "ipam/resources/resources.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::ipam {

struct IpamSettings {
  IPAMConfiguration config;
  ReservedAddresses reserved;
  std::int64_t revision = 0;  // the store revision they were read at

  // The compares that fail once a reservation or the IPAMConfiguration changed since `revision`.
  std::vector<Unchanged> guards() const;
};

// One list (IPAMConfiguration and IPReservation share a key prefix with nothing but IPPools).
Result<IpamSettings> read_ipam_settings(Datastore& store);

}  // namespace blockd::ipam
