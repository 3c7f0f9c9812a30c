// The real Kernel: rtnetlink over a libnl-3 socket, in the network namespace of the thread
// that opened it. Requests are batched (see Socket::transact).
#pragma once

#include <memory>

#include "netlink/kernel.hpp"
#include "netlink/link_table.hpp"
#include "netlink/socket.hpp"

namespace blockd::netlink {

class LibnlKernel final : public Kernel {
 public:
  static Result<std::unique_ptr<LibnlKernel>> open();

  Result<std::vector<Route>> dump_routes(std::uint8_t protocol) override;
  std::vector<Status> apply_routes(std::span<const RouteChange> changes) override;
  Result<std::vector<Neighbour>> dump_neighbours(const std::string& device) override;
  std::vector<Status> apply_neighbours(std::span<const NeighbourChange> changes) override;
  Result<std::vector<FdbEntry>> dump_fdb(const std::string& device) override;
  std::vector<Status> apply_fdb(std::span<const FdbChange> changes) override;

 private:
  explicit LibnlKernel(Socket s) : socket_(std::move(s)) {}
  // The ifindex of `device` (0 for none); refreshes the link table once when unknown.
  Result<int> ifindex(const std::string& device);
  template <class T, class Build>
  std::vector<Status> apply(std::span<const Change<T>> changes, Build build);

  Socket socket_;
  LinkTable links_;
};

}  // namespace blockd::netlink
