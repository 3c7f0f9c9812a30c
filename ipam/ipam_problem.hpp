// One problem `ipam check` finds, with a stable id naming what it is about (so a report
// written with `ipam check --show-problem-ips -o FILE` and read back by `ipam release
// --from-report FILE` names the same records), and the report file's JSON form.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ipam/net/prefix.hpp"
#include "ipam/net/result.hpp"

namespace blockd::ipam {

enum class ProblemKind {
  LeakedAddress,           // allocated to a handle that does not exist
  DeletedNodeAddress,      // held by a workload of a node that no longer exists
  DeletedNodeAffinity,     // a block affine to a node that no longer exists
  EmptyBlockOutsidePools,  // an empty block no pool contains (its pool was deleted)
  EmptyHandle,             // a handle whose blocks hold none of its addresses
  Inconsistency,           // anything else (overlaps, index mismatch): reported, never released
};
const char* problem_kind_name(ProblemKind kind);

struct Problem {
  ProblemKind kind = ProblemKind::Inconsistency;
  std::string id;    // "leaked-address/10.0.0.5", "deleted-node-affinity/n3/10.0.0.0/26", ...
  std::string text;  // what `ipam check` prints
  std::optional<Address> address;
  std::optional<Prefix> block;
  std::string handle;
  std::string node;

  bool releasable() const { return kind != ProblemKind::Inconsistency; }
  friend bool operator==(const Problem&, const Problem&) = default;
};

std::ostream& operator<<(std::ostream& os, const Problem& p);

// The report file: {"version": 1, "revision": N, "problems": [{"id", "kind", "description",
// "address", "block", "handle", "node"}, ...]}. At most kMaxReportProblems problems.
inline constexpr std::size_t kMaxReportProblems = 1'000'000;
nlohmann::json problems_to_json(const std::vector<Problem>& problems, std::int64_t revision);
Result<std::vector<Problem>> problems_from_json(const nlohmann::json& report);

}  // namespace blockd::ipam
