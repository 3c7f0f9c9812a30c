#include "ipam/resources/resources.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace blockd::ipam {


const char* assignment_mode_name(AssignmentMode m) {
  return m == AssignmentMode::Manual ? "Manual" : "Automatic";
}

std::string kind_of(const Resource& r) {
  struct Kind {
    std::string operator()(const IPPool&) const { return "IPPool"; }
    std::string operator()(const Node&) const { return "Node"; }
    std::string operator()(const BGPPeer&) const { return "BGPPeer"; }
    std::string operator()(const BGPConfiguration&) const { return "BGPConfiguration"; }
    std::string operator()(const BGPFilter&) const { return "BGPFilter"; }
    std::string operator()(const IPReservation&) const { return "IPReservation"; }
    std::string operator()(const IPAMConfiguration&) const { return "IPAMConfiguration"; }
  };
  return std::visit(Kind{}, r);
}

std::string name_of(const Resource& r) {
  return std::visit([](const auto& x) { return x.name; }, r);
}

Result<std::string> canonical_kind(std::string_view word) {
  // calicoctl's aliases, case-insensitive; "workload" for `blockctl get workloads`.
  static const std::array<std::pair<std::string_view, std::string_view>, 27> aliases = {{
      {"ippool", "IPPool"},
      {"ippools", "IPPool"},
      {"ipp", "IPPool"},
      {"ipps", "IPPool"},
      {"pool", "IPPool"},
      {"pools", "IPPool"},
      {"node", "Node"},
      {"nodes", "Node"},
      {"no", "Node"},
      {"bgppeer", "BGPPeer"},
      {"bgppeers", "BGPPeer"},
      {"bgpp", "BGPPeer"},
      {"bgpps", "BGPPeer"},
      {"bgpconfiguration", "BGPConfiguration"},
      {"bgpconfigurations", "BGPConfiguration"},
      {"bgpconfig", "BGPConfiguration"},
      {"bgpconfigs", "BGPConfiguration"},
      {"bgpfilter", "BGPFilter"},
      {"bgpfilters", "BGPFilter"},
      {"ipreservation", "IPReservation"},
      {"ipreservations", "IPReservation"},
      {"ipamconfiguration", "IPAMConfiguration"},
      {"ipamconfigurations", "IPAMConfiguration"},
      {"ipamconfig", "IPAMConfiguration"},
      {"ipamconfigs", "IPAMConfiguration"},
      {"workload", "Workload"},
      {"workloads", "Workload"},
  }};
  std::string lower(word);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [alias, kind] : aliases) {
    if (lower == alias) return std::string(kind);
  }
  return invalid("unknown resource type \"" + std::string(word) +
                 "\" (expected one of ippool, node, bgppeer, bgpconfiguration, bgpfilter, ipreservation, "
                 "ipamconfiguration, workload)");
}

}  // namespace blockd::ipam
