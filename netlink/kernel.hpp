// The Kernel interface: dump and batched add/replace/delete of routes, neighbour and FDB
// entries. One real implementation (LibnlKernel, rtnetlink on libnl-3) and one in-memory fake
// (FakeKernel) for unit tests of the programmer's logic, as Open/R's NetlinkProtocolSocket and
// FakeNetlinkProtocolSocket.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ipam/net/result.hpp"
#include "netlink/route.hpp"

namespace blockd::netlink {

enum class Op : std::uint8_t { Add, Replace, Delete };
inline const char* op_name(Op op) {
  return op == Op::Add ? "add" : op == Op::Replace ? "replace" : "delete";
}

template <class T>
struct Change {
  Op op = Op::Add;
  T value;
};
using RouteChange = Change<Route>;
using NeighbourChange = Change<Neighbour>;
using FdbChange = Change<FdbEntry>;

class Kernel {
 public:
  virtual ~Kernel() = default;

  // Every route carrying `protocol`, in every table, both families.
  virtual Result<std::vector<Route>> dump_routes(std::uint8_t protocol) = 0;
  // One Status per change, in order. A refusal of one change never stops the others.
  // Add writes or overwrites the route at its (table, destination, metric); Replace too;
  // Delete removes only a route carrying the change's protocol.
  virtual std::vector<Status> apply_routes(std::span<const RouteChange> changes) = 0;

  // Permanent neighbour entries (both families) on `device`.
  virtual Result<std::vector<Neighbour>> dump_neighbours(const std::string& device) = 0;
  virtual std::vector<Status> apply_neighbours(std::span<const NeighbourChange> changes) = 0;

  // Permanent FDB entries with a destination address on `device` (a VXLAN device).
  virtual Result<std::vector<FdbEntry>> dump_fdb(const std::string& device) = 0;
  virtual std::vector<Status> apply_fdb(std::span<const FdbChange> changes) = 0;
};

}  // namespace blockd::netlink
