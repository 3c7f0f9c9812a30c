// `blockctl ipam check`: reads the whole store in one consistent snapshot and reports leaks and
// inconsistencies (problems: exit non-zero) and configuration smells (warnings).
#pragma once

#include <string>
#include <vector>

#include "ipam/ipam_problem.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::ipam {

struct CheckReport {
  std::size_t blocks = 0;
  std::size_t allocations = 0;
  std::size_t handles = 0;
  std::int64_t revision = 0;          // the store revision checked
  std::vector<Problem> problems;      // allocated addresses with no handle, handles with no
                                      // address, blocks whose affinity names no node, ...
  std::vector<std::string> warnings;  // nodes no enabled pool selects, pools selecting no node,
                                      // blocks in use outside every pool (kept until empty)
  bool clean() const { return problems.empty(); }
};

Result<CheckReport> check_ipam(Datastore& store);

}  // namespace blockd::ipam
