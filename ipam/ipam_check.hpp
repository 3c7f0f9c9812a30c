// `blockctl ipam check`: reads the whole store in one consistent snapshot and reports leaks and
// inconsistencies (problems: exit non-zero) and configuration smells (warnings).
#pragma once

#include <string>
#include <vector>

#include "ipam/store/datastore.hpp"

namespace blockd::ipam {

struct CheckReport {
  std::size_t blocks = 0;
  std::size_t allocations = 0;
  std::size_t handles = 0;
  std::vector<std::string> problems;  // allocated addresses with no handle, handles with no
                                      // address, blocks whose affinity names no node, ...
  std::vector<std::string> warnings;  // nodes no enabled pool selects, pools selecting no node
  bool clean() const { return problems.empty(); }
};

Result<CheckReport> check_ipam(Datastore& store);

}  // namespace blockd::ipam
