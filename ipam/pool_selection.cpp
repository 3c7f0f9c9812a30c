#include "ipam/pool_selection.hpp"

#include <algorithm>

#include "ipam/resources/selector.hpp"

namespace blockd::ipam {

bool selector_matches(const IPPool& pool, const Labels& labels) {
  if (pool.parsed_selector.selector) return pool.parsed_selector.selector->matches(labels);
  auto selector = Selector::parse(pool.node_selector);
  return selector && selector->matches(labels);
}

PoolChoice choose_pools(const std::vector<IPPool>& pools, const Labels& labels, Family family,
                        const std::vector<std::string>& only, AddressUse use) {
  const std::string use_name = use == AddressUse::Workload ? "Workload" : "Tunnel";
  PoolChoice choice;
  for (const auto& pool : pools) {
    auto reject = [&](std::string why) { choice.rejected.push_back({pool.name, std::move(why)}); };
    if (!only.empty() && std::find(only.begin(), only.end(), pool.name) == only.end()) {
      reject("not in the requested pools");
      continue;
    }
    if (pool.cidr.family() != family) {
      reject(std::string("wrong family (") + family_name(pool.cidr.family()) + " pool, " +
             family_name(family) + " requested)");
      continue;
    }
    if (pool.disabled) {
      reject("disabled");
      continue;
    }
    // Calico's determinePools: a Manual pool serves only a request that names it.
    if (only.empty() && pool.assignment_mode == AssignmentMode::Manual) {
      reject("assignmentMode Manual (used only when a request names the pool)");
      continue;
    }
    if (std::find(pool.allowed_uses.begin(), pool.allowed_uses.end(), use_name) == pool.allowed_uses.end()) {
      reject("allowedUses does not include " + use_name);
      continue;
    }
    if (!selector_matches(pool, labels)) {
      auto selector = Selector::parse(pool.node_selector);
      reject(selector ? "selector " + selector->text() + " does not match"
                      : "selector does not parse: " + selector.error().message);
      continue;
    }
    choice.candidates.push_back(pool);
  }
  // A requested pool list is tried in the order given; otherwise by name, for determinism.
  if (!only.empty()) {
    std::stable_sort(choice.candidates.begin(), choice.candidates.end(), [&](const IPPool& a, const IPPool& b) {
      return std::find(only.begin(), only.end(), a.name) < std::find(only.begin(), only.end(), b.name);
    });
  }
  return choice;
}

SelectionGaps selection_gaps(const std::map<std::string, Node>& nodes, const std::vector<IPPool>& pools) {
  SelectionGaps gaps;
  std::vector<std::size_t> selected_by_pool(pools.size(), 0);
  for (const auto& [name, node] : nodes) {
    bool selected = false;
    for (std::size_t i = 0; i < pools.size(); ++i) {
      if (selector_matches(pools[i], node.labels)) {
        ++selected_by_pool[i];
        // A Manual pool gives a node nothing unless a request names it.
        selected = selected || (!pools[i].disabled && pools[i].assignment_mode == AssignmentMode::Automatic);
      }
    }
    if (!selected) gaps.unselected_nodes.push_back(name);
  }
  for (std::size_t i = 0; i < pools.size() && !nodes.empty(); ++i) {
    if (selected_by_pool[i] == 0) gaps.idle_pools.push_back(pools[i].name);
  }
  return gaps;
}

std::string format_labels(const Labels& labels) {
  if (labels.empty()) return "none";
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

}  // namespace blockd::ipam
