#include "netlink/programmer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "ipam/net/backoff.hpp"

namespace blockd::netlink {
namespace {

// Back-off is kept per item: a route by (table, destination), an entry by device and address.
std::string item_key(const Route& r) {
  return "route " + std::to_string(r.table) + " " + r.destination.str();
}
std::string item_key(const Neighbour& n) { return "neigh " + n.device + " " + n.address.str(); }
std::string item_key(const FdbEntry& f) { return "fdb " + f.device + " " + f.mac.str(); }

std::string item_text(Op op, const Route& r) { return std::string(op_name(op)) + " route " + r.str(); }
std::string item_text(Op op, const Neighbour& n) {
  return std::string(op_name(op)) + " neighbour " + n.address.str() + " lladdr " + n.mac.str() +
         " dev " + n.device;
}
std::string item_text(Op op, const FdbEntry& f) {
  return std::string(op_name(op)) + " fdb " + f.str();
}

bool owned(const std::vector<std::string>& devices, const std::string& d) {
  return std::find(devices.begin(), devices.end(), d) != devices.end();
}

// Diff of entries keyed by K whose value either matches exactly or is replaced.
template <class T, class KeyFn>
std::vector<Change<T>> diff_entries(const std::vector<T>& desired, const std::vector<T>& actual,
                                    KeyFn key, std::size_t& unchanged) {
  using K = decltype(key(desired.front()));
  std::map<K, const T*> have;
  for (const auto& a : actual) have.emplace(key(a), &a);
  std::vector<Change<T>> out;
  std::set<K> wanted;
  for (const auto& d : desired) {
    wanted.insert(key(d));
    auto it = have.find(key(d));
    if (it == have.end()) out.push_back({Op::Add, d});
    else if (*it->second == d) ++unchanged;
    else out.push_back({Op::Replace, d});
  }
  for (const auto& a : actual)
    if (!wanted.contains(key(a))) out.push_back({Op::Delete, a});
  return out;
}

// Neighbour and FDB entries that are not valid or not on one of blockd's devices are reported,
// never applied.
template <class Entry>
void report_unusable(const std::vector<Entry>& entries, const char* what, const std::vector<std::string>& devices,
                     ReconcileReport& report) {
  for (const auto& e : entries) {
    if (auto s = e.validate(); !s) {
      report.failed.push_back({std::string(what) + " " + e.str(), s.error()});
    } else if (!owned(devices, e.device)) {
      report.failed.push_back(
          {std::string(what) + " " + e.str(), invalid("device " + e.device + " is not one of blockd's devices")});
    }
  }
}

// The valid entries wanted on one device.
template <class Entry>
std::vector<Entry> wanted_on(const std::vector<Entry>& entries, const std::string& device) {
  std::vector<Entry> out;
  for (const auto& e : entries)
    if (e.device == device && e.validate()) out.push_back(e);
  return out;
}

}  // namespace

Status ProgrammerConfig::validate() const {
  if (protocol <= 4)  // RTPROT_STATIC
    return invalid("routeProtocol " + std::to_string(protocol) +
                   " is reserved (0-4: unspec, redirect, kernel, boot, static); use 5-255, default 200");
  if (initial_backoff.count() <= 0 || max_backoff < initial_backoff)
    return invalid("back-off: the initial delay must be positive and at most the maximum");
  for (const auto& d : owned_devices)
    if (d.empty() || d.size() > 15) return invalid("device name '" + d + "' must be 1 to 15 characters");
  return {};
}

bool ReconcileReport::converged() const {
  return failed.empty() && routes.deferred == 0 && neighbours.deferred == 0 && fdb.deferred == 0;
}

std::string ReconcileReport::summary() const {
  const auto part = [](const char* name, const ChangeCounts& c) {
    return std::string(name) + " +" + std::to_string(c.added) + " ~" + std::to_string(c.replaced) +
           " -" + std::to_string(c.removed) + " =" + std::to_string(c.unchanged) +
           (c.deferred ? " deferred " + std::to_string(c.deferred) : "");
  };
  return part("routes", routes) + ", " + part("neighbours", neighbours) + ", " + part("fdb", fdb) +
         ", failed " + std::to_string(failed.size());
}

RouteDiff diff_routes(const std::vector<Route>& desired, const std::vector<Route>& actual) {
  std::unordered_map<RouteKey, std::size_t> index;
  index.reserve(desired.size());
  for (std::size_t i = 0; i < desired.size(); ++i) index.try_emplace(key_of(desired[i]), i);
  return diff_routes(desired, index, actual);
}

RouteDiff diff_routes(const std::vector<Route>& desired,
                      const std::unordered_map<RouteKey, std::size_t>& index,
                      const std::vector<Route>& actual) {
  RouteDiff diff;
  // Actual routes chained per desired route (several can share a destination when their
  // metrics differ): head[desired index] -> next[actual index] -> ...
  std::vector<std::size_t> head(desired.size(), SIZE_MAX);
  std::vector<std::size_t> next(actual.size(), SIZE_MAX);
  std::vector<bool> keep(actual.size(), false);
  for (std::size_t i = 0; i < actual.size(); ++i) {
    auto it = index.find(key_of(actual[i]));
    if (it == index.end()) continue;  // not wanted: deleted below
    next[i] = head[it->second];
    head[it->second] = i;
  }
  std::vector<RouteChange> replaces;
  for (std::size_t j = 0; j < desired.size(); ++j) {
    const Route& d = desired[j];
    if (head[j] == SIZE_MAX) {
      diff.changes.push_back({Op::Add, d});
      continue;
    }
    std::size_t match = SIZE_MAX, same_metric = SIZE_MAX;
    for (std::size_t i = head[j]; i != SIZE_MAX; i = next[i]) {
      if (satisfies(actual[i], d)) {
        match = i;
        break;
      }
      if (actual[i].effective_metric() == d.effective_metric()) same_metric = i;
    }
    if (match != SIZE_MAX) {
      keep[match] = true;
      ++diff.unchanged;
    } else if (same_metric != SIZE_MAX) {
      // NLM_F_REPLACE overwrites the route at (table, destination, metric): no gap.
      keep[same_metric] = true;
      replaces.push_back({Op::Replace, d});
    } else {
      diff.changes.push_back({Op::Add, d});
    }
  }
  for (auto& r : replaces) diff.changes.push_back(std::move(r));
  for (std::size_t i = 0; i < actual.size(); ++i)
    if (!keep[i]) diff.changes.push_back({Op::Delete, actual[i]});
  return diff;
}

Programmer::Programmer(Kernel& kernel, ProgrammerConfig config, const Clock& clock)
    : kernel_(kernel), config_(std::move(config)), clock_(clock) {}

bool Programmer::deferred(const std::string& key) const {
  auto it = backoff_.find(key);
  return it != backoff_.end() && clock_.now() < it->second.not_before;
}

void Programmer::record(const std::string& key, const std::string& item, const Error& e,
                        ReconcileReport& report) {
  planned_.insert(key);
  auto& b = backoff_[key];
  ++b.attempts;
  const auto delay = doubling_backoff(config_.initial_backoff, b.attempts, config_.max_backoff);
  b.not_before = clock_.now() + delay;
  spdlog::warn("netlink: {} failed: {} (attempt {}, retry in {} ms)", item, e.message, b.attempts,
               delay.count());
  report.failed.push_back({item, e});
}

template <class T>
void Programmer::apply(std::vector<Change<T>> changes, ChangeCounts& counts,
                       ReconcileReport& report,
                       std::vector<Status> (Kernel::*apply_fn)(std::span<const Change<T>>)) {
  if (!backoff_.empty()) {
    for (const auto& c : changes) planned_.insert(item_key(c.value));
    std::erase_if(changes, [&](const Change<T>& c) {
      if (!deferred(item_key(c.value))) return false;
      ++counts.deferred;
      return true;
    });
  }
  if (changes.empty()) return;
  const auto results = (kernel_.*apply_fn)(changes);
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    const bool ok = i < results.size() && results[i].ok();
    if (!ok) {
      Error e = i < results.size() ? results[i].error() : internal("no answer from the kernel");
      record(item_key(c.value), item_text(c.op, c.value), e, report);
      continue;
    }
    if (!backoff_.empty()) backoff_.erase(item_key(c.value));
    ++(c.op == Op::Add ? counts.added : c.op == Op::Replace ? counts.replaced : counts.removed);
  }
}

Result<ReconcileReport> Programmer::reconcile(const DesiredState& desired) {
  ReconcileReport report;
  planned_.clear();
  if (auto s = reconcile_routes(desired.routes, report); !s) return s.error();
  if (auto s = reconcile_entries(desired, report); !s) return s.error();
  // Forget the back-off of items that need no change any more.
  std::erase_if(backoff_, [&](const auto& kv) { return !planned_.contains(kv.first); });
  planned_.clear();
  return report;
}

Status Programmer::reconcile_routes(const std::vector<Route>& desired, ReconcileReport& report) {
  // Desired routes: stamp the protocol, drop invalid and duplicate ones (reported).
  std::vector<Route> routes;
  routes.reserve(desired.size());
  std::unordered_map<RouteKey, std::size_t> index;
  index.reserve(desired.size());
  for (const auto& r : desired) {
    if (auto s = r.validate(); !s) {
      report.failed.push_back({"route " + r.str(), s.error()});
      continue;
    }
    auto [it, inserted] = index.try_emplace(key_of(r), routes.size());
    if (!inserted) {
      Route stamped = r;
      stamped.protocol = config_.protocol;
      const Route& kept = routes[it->second];
      if (!(kept == stamped))
        report.failed.push_back({"route " + stamped.str(),
                                 invalid("destination " + r.destination.str() +
                                         " is wanted twice; kept " + kept.str())});
      continue;
    }
    routes.push_back(r);
    routes.back().protocol = config_.protocol;
  }

  auto actual = kernel_.dump_routes(config_.protocol);
  if (!actual) return actual.error().within("dumping routes of protocol " +
                                            std::to_string(config_.protocol));
  auto diff = diff_routes(routes, index, *actual);
  desired_routes_ = std::move(routes);
  desired_index_ = std::move(index);
  report.routes.unchanged = diff.unchanged;
  apply(std::move(diff.changes), report.routes, report, &Kernel::apply_routes);
  return {};
}

Status Programmer::reconcile_entries(const DesiredState& desired, ReconcileReport& report) {
  report_unusable(desired.neighbours, "neighbour", config_.owned_devices, report);
  report_unusable(desired.fdb, "fdb", config_.owned_devices, report);
  std::vector<NeighbourChange> neigh_changes;
  std::vector<FdbChange> fdb_changes;
  for (const auto& device : config_.owned_devices) {
    auto have_n = kernel_.dump_neighbours(device);
    auto have_f = kernel_.dump_fdb(device);
    // A missing device holds no entries; the desired ones fail on apply and are retried.
    if (!have_n && have_n.error().code != ErrorCode::NotFound)
      return have_n.error().within("dumping neighbours of " + device);
    if (!have_f && have_f.error().code != ErrorCode::NotFound)
      return have_f.error().within("dumping fdb of " + device);
    const std::vector<Neighbour> no_n;
    const std::vector<FdbEntry> no_f;
    auto nd = diff_entries(wanted_on(desired.neighbours, device), have_n ? *have_n : no_n,
                           [](const Neighbour& n) { return n.address; }, report.neighbours.unchanged);
    neigh_changes.insert(neigh_changes.end(), nd.begin(), nd.end());
    auto fd = diff_entries(wanted_on(desired.fdb, device), have_f ? *have_f : no_f,
                           [](const FdbEntry& f) { return f.mac; }, report.fdb.unchanged);
    fdb_changes.insert(fdb_changes.end(), fd.begin(), fd.end());
  }
  apply(std::move(neigh_changes), report.neighbours, report, &Kernel::apply_neighbours);
  apply(std::move(fdb_changes), report.fdb, report, &Kernel::apply_fdb);
  return {};
}

bool Programmer::needs_resync(const RouteEvent& event) const {
  if (event.type == RouteEvent::Type::Overrun || event.type == RouteEvent::Type::LinkChanged)
    return true;
  const Route& r = event.route;
  auto it = desired_index_.find(key_of(r));
  const Route* want = it == desired_index_.end() ? nullptr : &desired_routes_[it->second];
  const bool ours = r.protocol == config_.protocol;
  if (event.type == RouteEvent::Type::Deleted) {
    // One of the desired routes is gone (`ip route del`).
    return ours && want && satisfies(r, *want);
  }
  if (ours) return !want || !satisfies(r, *want);
  // A foreign route at one of blockd's destinations and metric may have overwritten it.
  return want && r.effective_metric() == want->effective_metric();
}

void Programmer::retry_refused_now() {
  const auto now = clock_.now();
  for (auto& [key, b] : backoff_) b.not_before = std::min(b.not_before, now);
}

std::optional<std::chrono::steady_clock::time_point> Programmer::next_retry() const {
  std::optional<std::chrono::steady_clock::time_point> t;
  for (const auto& [k, b] : backoff_)
    if (!t || b.not_before < *t) t = b.not_before;
  return t;
}

}  // namespace blockd::netlink
