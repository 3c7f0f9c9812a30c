// `blockctl ipam check [--show-problem-ips] [-o FILE]` and `ipam release --from-report FILE`,
// as calicoctl has them: the check names each problem with an id and can write them to a report;
// the release frees exactly what the report names, each item re-checked (ipam/problem_release.hpp).
#include <fstream>

#include "agent/blockctl/commands.hpp"
#include "agent/bounded_input.hpp"
#include "agent/table.hpp"
#include "ipam/ipam_check.hpp"
#include "ipam/problem_release.hpp"

namespace blockd::agent::blockctl {

using namespace blockd::ipam;

Status ipam_check(Datastore& store, const CheckOptions& options, std::ostream& out) {
  auto report = check_ipam(store);
  if (!report) return report.error();
  out << "Checked " << report->blocks << " blocks, " << report->allocations << " allocated addresses, "
      << report->handles << " handles\n";
  for (const auto& w : report->warnings) out << "warning: " << w << '\n';
  for (const auto& p : report->problems) out << "problem: " << p << '\n';
  if (options.show_problem_ips) {
    Table t({"IP", "HANDLE", "NODE", "PROBLEM"});
    for (const auto& p : report->problems) {
      if (p.address) t.add({p.address->str(), p.handle, p.node, p.id});
    }
    t.print(out);
  }
  if (!options.report_file.empty()) {
    std::ofstream file(options.report_file, std::ios::trunc);
    file << problems_to_json(report->problems, report->revision).dump(2) << '\n';
    file.close();
    if (!file) return invalid("-o " + options.report_file + ": could not write the report");
    out << "Report with " << report->problems.size() << " problem(s) written to " << options.report_file << '\n';
  }
  if (report->clean()) {
    out << "No problems found\n";
    return {};
  }
  return invalid("ipam check found " + std::to_string(report->problems.size()) + " problem(s)");
}

Status ipam_release_report(Datastore& store, const std::string& file, std::ostream& out) {
  auto text = read_file_bounded(file, kMaxReportFileBytes, "--from-report " + file);
  if (!text) return text.error();
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (json.is_discarded()) return invalid("--from-report " + file + ": not JSON");
  auto problems = problems_from_json(json);
  if (!problems) return problems.error().within("--from-report " + file);
  std::size_t released = 0;
  for (const auto& p : *problems) {
    auto r = release_problem(store, p);
    if (!r) return r.error().within(p.id);
    if (r->released) {
      ++released;
      out << "Released " << p.id << '\n';
    } else {
      out << "Kept " << p.id << ": " << r->reason << '\n';
    }
  }
  out << "Released " << released << " of " << problems->size() << " problem(s) in the report\n";
  return {};
}

}  // namespace blockd::agent::blockctl
