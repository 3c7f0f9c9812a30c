// The desired-state programmer: given every route, neighbour and FDB entry blockd wants, it
// dumps what blockd owns in the kernel, diffs, and applies only the difference. Level-triggered
// and idempotent: calling reconcile() again with the same state changes nothing. It owns routes
// carrying its protocol number and the permanent neighbour/FDB entries on its own devices, and
// touches nothing else. Pure against the Kernel interface; time comes from the injected clock.
// Single-threaded: one agent thread calls it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ipam/net/clock.hpp"
#include "ipam/net/result.hpp"
#include "netlink/kernel.hpp"
#include "netlink/route.hpp"
#include "netlink/route_event.hpp"

namespace blockd::netlink {

struct ProgrammerConfig {
  std::uint8_t protocol = kDefaultRouteProtocol;  // dataplane.routeProtocol
  // Devices whose permanent neighbour and FDB entries are blockd's (the VXLAN device).
  std::vector<std::string> owned_devices;
  // A refused change is retried after initial_backoff, doubling up to max_backoff.
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};

  // The protocol must be one no kernel mechanism writes (0-4: unspec, redirect, kernel, boot,
  // static), or blockd would take over routes it never made.
  Status validate() const;
};

struct DesiredState {
  std::vector<Route> routes;
  std::vector<Neighbour> neighbours;
  std::vector<FdbEntry> fdb;
};

struct ChangeCounts {
  std::size_t added = 0, replaced = 0, removed = 0, unchanged = 0;
  // Changes not attempted because an earlier refusal of the same item is still backing off.
  std::size_t deferred = 0;
  friend bool operator==(const ChangeCounts&, const ChangeCounts&) = default;
};

struct Failure {
  std::string item;  // e.g. "add route 10.0.0.0/26 via 10.0.1.1 dev vxlan.blockd onlink proto 200"
  Error error;       // the kernel's reason
};

struct ReconcileReport {
  ChangeCounts routes, neighbours, fdb;
  std::vector<Failure> failed;
  bool converged() const;  // nothing failed and nothing deferred
  std::string summary() const;
};

// The route changes that turn `actual` (routes dumped with blockd's protocol) into `desired`:
// adds and replaces first, deletes last, so a route never disappears before its successor
// exists. Desired routes must already carry the protocol.
struct RouteDiff {
  std::vector<RouteChange> changes;
  std::size_t unchanged = 0;
};
RouteDiff diff_routes(const std::vector<Route>& desired, const std::vector<Route>& actual);
// The same with the desired routes already indexed by key (unique keys).
RouteDiff diff_routes(const std::vector<Route>& desired,
                      const std::unordered_map<RouteKey, std::size_t>& index,
                      const std::vector<Route>& actual);

class Programmer {
 public:
  // The clock times the back-off of refused changes (tests pass a FakeClock).
  Programmer(Kernel& kernel, ProgrammerConfig config, const Clock& clock = steady_clock());

  // Converges the kernel to `desired`. An error only when the kernel could not be read
  // (nothing was changed); refusals of single changes are in the report and retried with
  // back-off on later calls.
  Result<ReconcileReport> reconcile(const DesiredState& desired);
  // Removes everything blockd owns: its routes and its neighbour/FDB entries (devices are
  // removed by delete_device, device.hpp).
  Result<ReconcileReport> cleanup() { return reconcile({}); }

  // Whether a kernel route event contradicts the last desired state: one of blockd's routes
  // deleted or changed by hand, an unwanted route with blockd's protocol, or a foreign route
  // written over one of blockd's destinations; a device change or lost events. blockd's own
  // route writes never trigger it.
  bool needs_resync(const RouteEvent& event) const;
  // A device appeared or changed state (RouteEvent::LinkChanged): what made the kernel refuse
  // a change (its device down or missing: ENETDOWN, ENODEV) may be gone, so every refused
  // change is tried again at the next reconcile instead of after its back-off, which may be
  // max_backoff. A change refused again keeps doubling its back-off.
  void retry_refused_now();
  // When the earliest refused change may be retried; nullopt when none is pending.
  std::optional<std::chrono::steady_clock::time_point> next_retry() const;

  const ProgrammerConfig& config() const { return config_; }

 private:
  struct Backoff {
    unsigned attempts = 0;
    std::chrono::steady_clock::time_point not_before;
  };
  template <class T>
  void apply(std::vector<Change<T>> changes, ChangeCounts& counts, ReconcileReport& report,
             std::vector<Status> (Kernel::*apply_fn)(std::span<const Change<T>>));
  // Stamps blockd's protocol on the desired routes, reports invalid and duplicate ones, and
  // applies the difference to the kernel's. An error only when the kernel could not be read.
  Status reconcile_routes(const std::vector<Route>& desired, ReconcileReport& report);
  // The same for the neighbour and FDB entries on each of blockd's devices.
  Status reconcile_entries(const DesiredState& desired, ReconcileReport& report);
  bool deferred(const std::string& item_key) const;
  void record(const std::string& item_key, const std::string& item, const Error& e,
              ReconcileReport& report);

  Kernel& kernel_;
  ProgrammerConfig config_;
  const Clock& clock_;
  std::vector<Route> desired_routes_;  // of the last reconcile, stamped
  std::unordered_map<RouteKey, std::size_t> desired_index_;
  std::map<std::string, Backoff> backoff_;               // by item key, only refused items
  std::set<std::string> planned_;  // item keys with a change planned in this reconcile
};

}  // namespace blockd::netlink
