// Which pools a node may allocate from (ARCHITECTURE.md, Allocation step 1), and why each other pool
// was passed over, so "no address" errors can name every pool and the reason.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ipam/resources/resources.hpp"

namespace blockd::ipam {

// Whether the pool's nodeSelector matches the labels (false when it does not parse). Uses the
// selector the codec or validation parsed, else parses the text.
bool selector_matches(const IPPool& pool, const Labels& labels);
// Whether the pool selects a node with these labels for new addresses: Calico's rule, a disabled
// pool selects no node whatever its nodeSelector says.
inline bool selects(const IPPool& pool, const Labels& labels) {
  return !pool.disabled && selector_matches(pool, labels);
}

struct PoolRejection {
  std::string pool;
  std::string reason;  // "disabled", "selector rack == \"0\" does not match", ...
};

struct PoolChoice {
  std::vector<IPPool> candidates;  // in the order to try them
  std::vector<PoolRejection> rejected;
};

// What an address is for: Calico's allowedUses (a workload's, or a node's tunnel address).
enum class AddressUse { Workload, Tunnel };

// Candidates: not disabled (disabled wins over nodeSelector), the requested family, allowed for
// the use (allowedUses), nodeSelector matching the labels, and in `only` when it is not empty; a
// pool with assignmentMode Manual only when `only` names it.
PoolChoice choose_pools(const std::vector<IPPool>& pools, const Labels& labels, Family family,
                        const std::vector<std::string>& only, AddressUse use = AddressUse::Workload);

// Reference tutorial: "ensure that all nodes are selected by at least one IP pool". The nodes
// no enabled Automatic pool selects, and the pools that select no node (none listed when there are no
// nodes), for `ipam check` and `node status`.
struct SelectionGaps {
  std::vector<std::string> unselected_nodes;
  std::vector<std::string> idle_pools;
};
SelectionGaps selection_gaps(const std::map<std::string, Node>& nodes, const std::vector<IPPool>& pools);

// "rack=0,zone=west" (or "none").
std::string format_labels(const Labels& labels);

}  // namespace blockd::ipam
