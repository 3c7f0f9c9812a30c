#include <algorithm>
#include <map>
#include <set>

#include "agent/blockctl/commands.hpp"
#include "agent/route_reduction.hpp"
#include "agent/table.hpp"
#include "ipam/allocator.hpp"
#include "ipam/block.hpp"
#include "ipam/ipam_check.hpp"
#include "ipam/ipam_settings_reader.hpp"
#include "ipam/keys.hpp"
#include "ipam/pool_selection.hpp"

namespace blockd::agent::blockctl {
namespace {

using namespace blockd::ipam;

std::string percent(uint128 part, uint128 whole) {
  if (whole == 0) return "0%";
  return std::to_string(static_cast<unsigned>((part * 100) / whole)) + "%";
}

Result<std::vector<AllocationBlock>> all_blocks(Datastore& store) {
  auto listed = store.list(keys::kBlocks);
  if (!listed) return listed.error();
  std::vector<AllocationBlock> out;
  for (const auto& kv : listed->kvs) {
    auto b = AllocationBlock::from_json(kv.value);
    if (!b) return b.error().within(kv.key);
    out.push_back(std::move(*b));
  }
  return out;
}

}  // namespace

Status ipam_allocate(Datastore& store, const AllocateOptions& options, std::ostream& out) {
  ResourceStore rs(store);
  auto node = rs.node(options.node);
  if (!node) return node.error();
  auto pools = rs.pools();
  if (!pools) return pools.error();
  Allocator allocator(store);
  auto a = allocator.allocate({node->name, node->labels, *pools},
                              {options.handle, options.ipv6 ? Family::V6 : Family::V4, options.pools});
  if (!a) return a.error();
  out << a->address.str() << '\n';
  return {};
}

Status ipam_release(Datastore& store, const std::optional<std::string>& ip, const std::optional<std::string>& handle,
                    bool release_empty_blocks, std::ostream& out) {
  if (ip.has_value() == handle.has_value()) return invalid("ipam release: give exactly one of --ip or --handle");
  Allocator allocator(store);
  const ReleaseOptions options{release_empty_blocks};
  if (ip) {
    auto address = Address::parse(*ip);
    if (!address) return address.error().within("--ip");
    auto pools = ResourceStore(store).pools();
    if (!pools) return pools.error();
    auto released = allocator.release_address(*address, *pools, options);
    if (!released) return released.error();
    out << "Released " << released->address.str() << " (handle " << released->allocation.handle << ")\n";
    return {};
  }
  auto pools = ResourceStore(store).pools();
  if (!pools) return pools.error();
  ReleaseOptions with_pools = options;
  with_pools.pools = &*pools;
  auto released = allocator.release_handle(*handle, with_pools);
  if (!released) return released.error();
  for (const auto& r : *released) out << "Released " << r.address.str() << " (handle " << *handle << ")\n";
  if (released->empty()) out << "Handle " << *handle << " holds no address\n";
  return {};
}

Status ipam_show(Datastore& store, bool show_blocks, const std::optional<std::string>& ip, std::ostream& out) {
  ResourceStore rs(store);
  auto blocks = all_blocks(store);
  if (!blocks) return blocks.error();
  if (ip) {
    auto address = Address::parse(*ip);
    if (!address) return address.error().within("--ip");
    for (const auto& b : *blocks) {
      if (auto a = b.allocation_of(*address)) {
        out << "IP " << address->str() << " is in use\n  handle: " << a->handle << "\n  node: " << a->node
            << "\n  block: " << b.cidr().str() << " (affine to " << (b.affinity().empty() ? "none" : b.affinity())
            << (a->node != b.affinity() ? ", borrowed" : "") << ")\n";
        return {};
      }
    }
    out << "IP " << address->str() << " is not assigned\n";
    return {};
  }
  auto pools = rs.pools();
  if (!pools) return pools.error();
  auto nodes = rs.nodes();
  if (!nodes) return nodes.error();
  auto settings = read_ipam_settings(store);
  if (!settings) return settings.error();
  const ReservedAddresses& reserved = settings->reserved;
  // IPReservation addresses no workload holds (one allocated before its reservation is in use).
  auto reserved_unused = [&](const Prefix& range) {
    uint128 n = reserved.reserved_within(range);
    for (const auto& b : *blocks) {
      if (!range.contains(b.cidr())) continue;
      for (const auto& [ordinal, a] : b.allocations()) {
        const Address address = b.cidr().at(ordinal);
        n -= std::any_of(reserved.cidrs().begin(), reserved.cidrs().end(),
                         [&](const Prefix& r) { return r.contains(address); });
      }
    }
    return n;
  };
  Table t({"GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE", "IPS RESERVED", "IPS FREE", "BLOCKS CLAIMED",
           "NODES SELECTED"});
  for (const auto& p : *pools) {
    uint128 used = 0, claimed = 0;
    for (const auto& b : *blocks) {
      if (!p.cidr.contains(b.cidr())) continue;
      used += b.used();
      ++claimed;
    }
    std::size_t selected = 0;
    for (const auto& n : *nodes) selected += ipam::selector_matches(p, n.labels);
    const uint128 total = p.cidr.size();
    const uint128 held = reserved_unused(p.cidr);
    const uint128 free = total - used - held;
    t.add({"IP Pool " + p.name, p.cidr.str(), to_string(total), to_string(used) + " (" + percent(used, total) + ")",
           to_string(held), to_string(free) + " (" + percent(free, total) + ")",
           to_string(claimed) + "/" + to_string(p.cidr.blocks(p.block_size).count()),
           std::to_string(selected) + (p.disabled ? " (disabled)" : "")});
    if (!show_blocks) continue;
    for (const auto& b : *blocks) {
      if (!p.cidr.contains(b.cidr())) continue;
      const uint128 block_held = reserved_unused(b.cidr());
      const uint128 block_free = b.free() - block_held;
      t.add({"Block", b.cidr().str(), std::to_string(b.capacity()),
             std::to_string(b.used()) + " (" + percent(b.used(), b.capacity()) + ")", to_string(block_held),
             to_string(block_free) + " (" + percent(block_free, b.capacity()) + ")",
             "affinity: " + (b.affinity().empty() ? std::string("none") : b.affinity()), ""});
    }
  }
  t.print(out);
  return {};
}

Status datastore_migrate(Datastore& from, Datastore& to, bool overwrite, std::ostream& out) {
  auto source = from.list(kKeyRoot);  // one consistent snapshot of the source
  if (!source) return source.error().within("reading " + from.describe());
  auto target = to.list(kKeyRoot);
  if (!target) return target.error().within("reading " + to.describe());
  if (!target->kvs.empty() && !overwrite) {
    return invalid(to.describe() + " already holds " + std::to_string(target->kvs.size()) +
                   " blockd keys; migrate with --overwrite to replace them");
  }
  // Batches of puts (and deletes of target keys the source lacks); each batch is atomic.
  std::set<std::string> wanted;
  for (const auto& kv : source->kvs) wanted.insert(kv.key);
  std::vector<Operation> ops;
  for (const auto& kv : target->kvs) {
    if (!wanted.count(kv.key)) ops.push_back(Operation::erase(kv.key));
  }
  for (const auto& kv : source->kvs) ops.push_back(Operation::put(kv.key, kv.value));
  constexpr std::size_t kBatch = 100;  // etcd's default limit is 128 operations per transaction
  for (std::size_t i = 0; i < ops.size(); i += kBatch) {
    Transaction txn;
    txn.operations.assign(ops.begin() + static_cast<std::ptrdiff_t>(i),
                          ops.begin() + static_cast<std::ptrdiff_t>(std::min(ops.size(), i + kBatch)));
    auto r = to.commit(txn);
    if (!r) return r.error().within("writing " + to.describe() + " (copied " + std::to_string(i) + " of " +
                                    std::to_string(ops.size()) + " changes)");
  }
  out << "Copied " << source->kvs.size() << " keys from " << from.describe() << " to " << to.describe() << '\n';
  return ipam_check(to, out);
}

Status routes_summary(Datastore& store, OutputFormat format, std::ostream& out) {
  auto blocks = all_blocks(store);
  if (!blocks) return blocks.error();
  const RouteReduction r = count_routes(*blocks);
  if (format == OutputFormat::Json) {
    auto row = [](const NodeRoutes& n) {
      return nlohmann::json{{"node", n.node},       {"workloads", n.workloads}, {"blocks", n.blocks},
                            {"blockRoutes", n.block_routes}, {"borrowed", n.borrowed}, {"routes", n.routes()}};
    };
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& n : r.nodes) nodes.push_back(row(n));
    auto total = row(r.total);
    total.erase("node");
    total["perWorkloadRoutes"] = r.total.workloads;
    out << nlohmann::json{{"nodes", nodes}, {"total", total}}.dump(2) << '\n';
    return {};
  }
  Table t({"NODE", "WORKLOADS", "BLOCKS", "BLOCK ROUTES", "BORROWED /32", "ROUTES"});
  for (const auto& n : r.nodes) {
    t.add({n.node, std::to_string(n.workloads), std::to_string(n.blocks), std::to_string(n.block_routes),
           std::to_string(n.borrowed), std::to_string(n.routes())});
  }
  t.print(out);
  out << "route reduction: " << reduction_line(r) << '\n';
  return {};
}

}  // namespace blockd::agent::blockctl
