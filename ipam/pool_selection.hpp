// Which pools a node may allocate from (DESIGN.md, Allocation step 1), and why each other pool
// was passed over, so "no address" errors can name every pool and the reason.
#pragma once

#include <string>
#include <vector>

#include "ipam/resources.hpp"

namespace blockd::ipam {

struct PoolRejection {
  std::string pool;
  std::string reason;  // "disabled", "selector rack == \"0\" does not match", ...
};

struct PoolChoice {
  std::vector<IPPool> candidates;  // in the order to try them
  std::vector<PoolRejection> rejected;
};

// Candidates: not disabled (disabled wins over nodeSelector), the requested family, allowed for
// workloads, nodeSelector matching the labels, and in `only` when it is not empty.
PoolChoice choose_pools(const std::vector<IPPool>& pools, const Labels& labels, Family family,
                        const std::vector<std::string>& only);

// "rack=0,zone=west" (or "none").
std::string format_labels(const Labels& labels);

}  // namespace blockd::ipam
