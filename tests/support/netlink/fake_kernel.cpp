#include "tests/support/netlink/fake_kernel.hpp"

namespace blockd::netlink {

Result<std::vector<Route>> FakeKernel::dump_routes(std::uint8_t protocol) {
  if (fail_dumps_) return unavailable("fake kernel: dump refused");
  std::vector<Route> out;
  for (const auto& [k, r] : routes_)
    if (r.protocol == protocol) out.push_back(r);
  return out;
}

std::vector<Status> FakeKernel::apply_routes(std::span<const RouteChange> changes) {
  ++counts_.batches;
  std::vector<Status> out;
  out.reserve(changes.size());
  for (const auto& c : changes) {
    if (auto it = refusals_.find(c.value.destination); it != refusals_.end()) {
      out.emplace_back(it->second);
      continue;
    }
    if (c.op == Op::Delete) {
      auto it = routes_.find(key(c.value));
      // The kernel deletes only a route whose protocol matches the request's; deleting what
      // is gone reaches the desired state (as LibnlKernel reports it).
      if (it == routes_.end() || it->second.protocol != c.value.protocol) {
        out.emplace_back();
        continue;
      }
      routes_.erase(it);
      ++counts_.deletes;
      out.emplace_back();
      continue;
    }
    routes_[key(c.value)] = c.value;
    ++(c.op == Op::Add ? counts_.adds : counts_.replaces);
    out.emplace_back();
  }
  return out;
}

Result<std::vector<Neighbour>> FakeKernel::dump_neighbours(const std::string& device) {
  if (fail_dumps_) return unavailable("fake kernel: dump refused");
  std::vector<Neighbour> out;
  for (const auto& [k, n] : neighbours_)
    if (n.device == device) out.push_back(n);
  return out;
}

std::vector<Status> FakeKernel::apply_neighbours(std::span<const NeighbourChange> changes) {
  std::vector<Status> out;
  for (const auto& c : changes) {
    const auto k = std::make_pair(c.value.device, c.value.address);
    if (c.op == Op::Delete) {
      neighbours_.erase(k);
      out.emplace_back();
      continue;
    }
    neighbours_[k] = c.value;
    out.emplace_back();
  }
  return out;
}

Result<std::vector<FdbEntry>> FakeKernel::dump_fdb(const std::string& device) {
  if (fail_dumps_) return unavailable("fake kernel: dump refused");
  std::vector<FdbEntry> out;
  for (const auto& [k, f] : fdb_)
    if (f.device == device) out.push_back(f);
  return out;
}

std::vector<Status> FakeKernel::apply_fdb(std::span<const FdbChange> changes) {
  std::vector<Status> out;
  for (const auto& c : changes) {
    const auto k = std::make_pair(c.value.device, c.value.mac);
    if (c.op == Op::Delete) {
      fdb_.erase(k);
      out.emplace_back();
      continue;
    }
    fdb_[k] = c.value;
    out.emplace_back();
  }
  return out;
}

void FakeKernel::put_route(const Route& r) { routes_[key(r)] = r; }
void FakeKernel::erase_route(const Route& r) { routes_.erase(key(r)); }

std::vector<Route> FakeKernel::all_routes() const {
  std::vector<Route> out;
  for (const auto& [k, r] : routes_) out.push_back(r);
  return out;
}

}  // namespace blockd::netlink
