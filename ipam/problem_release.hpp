// `blockctl ipam release --from-report FILE`: releases what an `ipam check` report names, each
// item re-checked against the store as it is now and written with compare-and-swap on the
// revisions just read, so an address, block or handle that came back into use since the report
// (a new handle, a re-created node, an allocation in the block) is left alone.
#pragma once

#include <string>

#include "ipam/ipam_problem.hpp"
#include "ipam/store/datastore.hpp"

namespace blockd::ipam {

struct ProblemRelease {
  bool released = false;
  std::string reason;  // why it was left alone (it is no longer a problem, or cannot be released)
};

Result<ProblemRelease> release_problem(Datastore& store, const Problem& problem);

}  // namespace blockd::ipam
