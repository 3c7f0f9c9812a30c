#include "ipam/ipam_problem.hpp"

#include <array>
#include <utility>

namespace blockd::ipam {
namespace {

constexpr std::array<std::pair<ProblemKind, const char*>, 6> kKinds = {{
    {ProblemKind::LeakedAddress, "leaked-address"},
    {ProblemKind::DeletedNodeAddress, "deleted-node-address"},
    {ProblemKind::DeletedNodeAffinity, "deleted-node-affinity"},
    {ProblemKind::EmptyBlockOutsidePools, "empty-block-outside-pools"},
    {ProblemKind::EmptyHandle, "empty-handle"},
    {ProblemKind::Inconsistency, "inconsistency"},
}};

}  // namespace

const char* problem_kind_name(ProblemKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "inconsistency";
}

std::ostream& operator<<(std::ostream& os, const Problem& p) { return os << "[" << p.id << "] " << p.text; }

nlohmann::json problems_to_json(const std::vector<Problem>& problems, std::int64_t revision) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& p : problems) {
    nlohmann::json j = {{"id", p.id}, {"kind", problem_kind_name(p.kind)}, {"description", p.text}};
    if (p.address) j["address"] = p.address->str();
    if (p.block) j["block"] = p.block->str();
    if (!p.handle.empty()) j["handle"] = p.handle;
    if (!p.node.empty()) j["node"] = p.node;
    items.push_back(std::move(j));
  }
  return {{"version", 1}, {"revision", revision}, {"problems", std::move(items)}};
}

Result<std::vector<Problem>> problems_from_json(const nlohmann::json& report) {
  if (!report.is_object() || !report.contains("problems") || !report["problems"].is_array()) {
    return invalid("not a blockctl ipam check report (expected an object with a \"problems\" list)");
  }
  if (report.value("version", 0) != 1) return invalid("report version: expected 1");
  const auto& items = report["problems"];
  if (items.size() > kMaxReportProblems) {
    return invalid("report: " + std::to_string(items.size()) + " problems, at most " +
                   std::to_string(kMaxReportProblems));
  }
  std::vector<Problem> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& j = items[i];
    const std::string where = "problems[" + std::to_string(i) + "]";
    if (!j.is_object()) return invalid(where + ": expected an object");
    auto text = [&](const char* key) -> std::string {
      return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    Problem p;
    p.id = text("id");
    if (p.id.empty()) return invalid(where + ".id: required");
    const std::string kind = text("kind");
    bool known = false;
    for (const auto& [k, name] : kKinds) {
      if (kind == name) {
        p.kind = k;
        known = true;
      }
    }
    if (!known) return invalid(where + ".kind: \"" + kind + "\" is not a problem kind blockctl knows");
    p.text = text("description");
    p.handle = text("handle");
    p.node = text("node");
    if (const auto a = text("address"); !a.empty()) {
      auto parsed = Address::parse(a);
      if (!parsed) return parsed.error().within(where + ".address");
      p.address = *parsed;
    }
    if (const auto b = text("block"); !b.empty()) {
      auto parsed = Prefix::parse(b);
      if (!parsed) return parsed.error().within(where + ".block");
      p.block = *parsed;
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace blockd::ipam
