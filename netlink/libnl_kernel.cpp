#include "netlink/libnl_kernel.hpp"

#include <cerrno>

#include "netlink/neighbour_message.hpp"
#include "netlink/route_message.hpp"

namespace blockd::netlink {
namespace {

// Deleting what is already gone reaches the desired state: the change succeeded.
bool already_gone(Op op, const Status& s) {
  return op == Op::Delete && !s.ok() && s.error().code == ErrorCode::NotFound;
}

}  // namespace

Result<std::unique_ptr<LibnlKernel>> LibnlKernel::open() {
  auto s = Socket::open();
  if (!s) return s.error();
  std::unique_ptr<LibnlKernel> k(new LibnlKernel(std::move(*s)));
  if (auto r = k->links_.refresh(k->socket_); !r) return r.error();
  return k;
}

Result<int> LibnlKernel::ifindex(const std::string& device) {
  if (device.empty()) return 0;
  if (int i = links_.index(device)) return i;
  if (auto r = links_.refresh(socket_); !r) return r.error();
  if (int i = links_.index(device)) return i;
  return not_found("Cannot find device \"" + device + "\"");
}

Result<std::vector<Route>> LibnlKernel::dump_routes(std::uint8_t protocol) {
  if (auto r = links_.refresh(socket_); !r) return r.error();
  std::vector<Route> out;
  for (Family f : {Family::V4, Family::V6}) {
    const std::size_t mark = out.size();
    auto s = socket_.dump(
        [&] {
          out.resize(mark);
          return route_dump_request(f, protocol);
        },
        [&](const nlmsghdr* h) {
          auto r = parse_route(h, links_);
          if (r && r->protocol == protocol) out.push_back(std::move(*r));
        });
    if (!s) return s.error();
  }
  return out;
}

template <class T, class Build>
std::vector<Status> LibnlKernel::apply(std::span<const Change<T>> changes, Build build) {
  auto out = socket_.transact(changes.size(), [&](std::size_t i) -> Result<Message> {
    const auto& c = changes[i];
    auto index = ifindex(c.value.device);
    if (!index) return index.error();
    return build(c, *index);
  });
  for (std::size_t i = 0; i < out.size(); ++i)
    if (already_gone(changes[i].op, out[i])) out[i] = Status{};
  return out;
}

std::vector<Status> LibnlKernel::apply_routes(std::span<const RouteChange> changes) {
  return apply(changes, [](const RouteChange& c, int index) {
    // A delete names no device: the route may already point elsewhere.
    return route_message(c.op, c.value, c.op == Op::Delete ? 0 : index);
  });
}

Result<std::vector<Neighbour>> LibnlKernel::dump_neighbours(const std::string& device) {
  auto index = ifindex(device);
  if (!index) return index.error();
  std::vector<Neighbour> out;
  auto s = socket_.dump(
      [&] {
        out.clear();
        return neighbour_dump_request(*index);
      },
      [&](const nlmsghdr* h) {
        if (auto n = parse_neighbour(h, *index, device)) out.push_back(std::move(*n));
      });
  if (!s) return s.error();
  return out;
}

std::vector<Status> LibnlKernel::apply_neighbours(std::span<const NeighbourChange> changes) {
  return apply(changes, [](const NeighbourChange& c, int index) {
    return neighbour_message(c.op, c.value, index);
  });
}

Result<std::vector<FdbEntry>> LibnlKernel::dump_fdb(const std::string& device) {
  auto index = ifindex(device);
  if (!index) return index.error();
  std::vector<FdbEntry> out;
  auto s = socket_.dump(
      [&] {
        out.clear();
        return fdb_dump_request(*index);
      },
      [&](const nlmsghdr* h) {
        if (auto f = parse_fdb(h, *index, device)) out.push_back(std::move(*f));
      });
  if (!s) return s.error();
  return out;
}

std::vector<Status> LibnlKernel::apply_fdb(std::span<const FdbChange> changes) {
  return apply(changes, [](const FdbChange& c, int index) { return fdb_message(c.op, c.value, index); });
}

}  // namespace blockd::netlink
