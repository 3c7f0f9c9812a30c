#include "netlink/nat_table.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace blockd::netlink {

Status validate_table_name(const std::string& name) {
  // nft's identifier grammar is wider; this is the part that needs no quoting anywhere.
  if (name.empty()) return invalid("nftables table name is empty");
  if (name.size() > 64) return invalid("nftables table name " + name + " is longer than 64 characters");
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(name[0])) return invalid("nftables table name " + name + " must start with a letter");
  for (char c : name)
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '_')
      return invalid("nftables table name " + name + " may hold only letters, digits and '_'");
  return {};
}

std::string NatReport::summary() const {
  return std::string(kind_name(kind)) + ": elements +" + std::to_string(elements_added) + " -" +
         std::to_string(elements_removed) + ", rules +" + std::to_string(rules_added) + " -" +
         std::to_string(rules_removed);
}

Result<std::unique_ptr<NatTable>> NatTable::open(std::string table_name) {
  if (auto s = validate_table_name(table_name); !s) return s.error();
  auto nft = Libnftables::open();
  if (!nft) return nft.error();
  return std::make_unique<NatTable>(std::move(*nft), std::move(table_name));
}

NatTable::NatTable(std::unique_ptr<Nft> nft, std::string table_name)
    : nft_(std::move(nft)), table_(std::move(table_name)) {}

Result<bool> NatTable::exists() {
  auto out = nft_->run("list tables inet", true);
  if (!out) return out.error();
  auto names = parse_inet_tables(*out);
  if (!names) return names.error().within("nftables: list tables inet");
  return std::find(names->begin(), names->end(), table_) != names->end();
}

Result<std::optional<NatListing>> NatTable::list() {
  auto out = nft_->run("list table inet " + table_, true);
  if (!out) {
    // Listing a missing table is an error too: tell it apart from a real failure.
    auto present = exists();
    if (!present) return present.error();
    if (!*present) return std::optional<NatListing>{};
    return out.error();
  }
  auto listing = parse_nat_listing(*out, table_);
  if (!listing) return listing.error().within("nftables: list table inet " + table_);
  return std::optional<NatListing>{std::move(*listing)};
}

Result<NatReport> NatTable::reconcile(const NatDesired& desired) {
  // Someone may change the table between our listing and our transaction; the transaction is
  // then refused as a whole and one fresh attempt follows.
  Error last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto listed = list();
    if (!listed) return listed.error();
    const NatPlan plan = plan_nat(desired, *listed);
    NatReport report;
    report.kind = plan.kind;
    report.defects = plan.defects;
    report.elements_added = plan.elements_added();
    report.elements_removed = plan.elements_removed();
    report.rules_added = plan.add_rules.size();
    report.rules_removed = plan.delete_rules.size();
    if (plan.kind == NatPlan::Kind::Create || plan.kind == NatPlan::Kind::Rebuild)
      report.rules_added = 2;
    if (!report.changed()) return report;
    auto applied = nft_->run(render_nat_plan(plan, table_), false);
    if (applied) {
      // A pool change or the first start is routine; a repair means someone edited the table.
      const bool routine = plan.kind == NatPlan::Kind::Create ||
                           (plan.add_rules.empty() && plan.delete_rules.empty() &&
                            plan.kind == NatPlan::Kind::Update);
      std::string why;
      for (const auto& d : report.defects) why += (why.empty() ? "" : "; ") + d;
      if (routine) spdlog::info("nat: table inet {} {}", table_, report.summary());
      else spdlog::warn("nat: table inet {} repaired, {} ({})", table_, report.summary(), why);
      return report;
    }
    last = applied.error();
    spdlog::warn("nat: table inet {}: {}", table_, last.message);
  }
  return last;
}

Status NatTable::cleanup() {
  auto present = exists();
  if (!present) return present.error();
  if (!*present) return {};
  auto out = nft_->run("delete table inet " + table_, false);
  if (!out) return out.error();
  return {};
}

}  // namespace blockd::netlink
