// An in-memory kernel for unit tests of the programmer's logic (as Open/R's
// FakeNetlinkProtocolSocket): routes keyed by (table, destination, metric) with their protocol,
// neighbour and FDB tables keyed per device. Tests can inject refusals and count operations.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "netlink/kernel.hpp"

namespace blockd::netlink {

class FakeKernel final : public Kernel {
 public:
  Result<std::vector<Route>> dump_routes(std::uint8_t protocol) override;
  std::vector<Status> apply_routes(std::span<const RouteChange> changes) override;
  Result<std::vector<Neighbour>> dump_neighbours(const std::string& device) override;
  std::vector<Status> apply_neighbours(std::span<const NeighbourChange> changes) override;
  Result<std::vector<FdbEntry>> dump_fdb(const std::string& device) override;
  std::vector<Status> apply_fdb(std::span<const FdbChange> changes) override;

  // Test hooks.
  // Any route (any protocol), as `ip route add` by hand would; overwrites the same key.
  void put_route(const Route& r);
  void erase_route(const Route& r);
  std::vector<Route> all_routes() const;
  // Refuse changes for this destination with `error` (as the kernel refuses a route to a
  // missing device).
  void refuse(const Prefix& destination, Error error) { refusals_[destination] = std::move(error); }
  void accept(const Prefix& destination) { refusals_.erase(destination); }
  void fail_dumps(bool fail) { fail_dumps_ = fail; }

  struct Counts {
    std::size_t adds = 0, replaces = 0, deletes = 0, batches = 0;
  };
  const Counts& counts() const { return counts_; }
  void reset_counts() { counts_ = {}; }

 private:
  using Key = std::tuple<std::uint32_t, Prefix, std::uint32_t>;  // table, destination, metric
  static Key key(const Route& r) { return {r.table, r.destination, r.effective_metric()}; }

  std::map<Key, Route> routes_;
  std::map<std::pair<std::string, Address>, Neighbour> neighbours_;
  std::map<std::pair<std::string, Mac>, FdbEntry> fdb_;
  std::map<Prefix, Error> refusals_;
  bool fail_dumps_ = false;
  Counts counts_;
};

}  // namespace blockd::netlink
