#include "ipam/resources/ipam_settings.hpp"

#include <string>

#include "ipam/resources/json_fields.hpp"
#include "ipam/resources/validation.hpp"

namespace blockd::ipam {

using nlohmann::json;
using namespace json_fields;

Result<IPReservation> decode_ip_reservation(const json& doc, std::string name) {
  IPReservation r;
  r.name = std::move(name);
  auto spec = read_spec(doc, {"reservedCIDRs"});
  if (!spec) return spec.error();
  const std::string required = "spec.reservedCIDRs: required (a list of CIDRs or addresses)";
  if (*spec == nullptr) return invalid(required);
  auto list = list_field(**spec, "reservedCIDRs", "spec", kMaxReservedCidrs);
  if (!list) return list.error();
  if (*list == nullptr) return invalid(required);
  const json* cidrs = *list;
  for (std::size_t i = 0; i < cidrs->size(); ++i) {
    const std::string path = "spec.reservedCIDRs[" + std::to_string(i) + "]";
    const json& c = (*cidrs)[i];
    if (!c.is_string()) return wrong_type(path, "a CIDR or an address", c);
    auto prefix = Prefix::parse(c.get<std::string>());
    if (!prefix) return prefix.error().within(path);
    r.reserved_cidrs.push_back(*prefix);
  }
  return r;
}

Result<IPAMConfiguration> decode_ipam_configuration(const json& doc, std::string name) {
  IPAMConfiguration c;
  c.name = std::move(name);
  auto spec = read_spec(doc, {"strictAffinity", "maxBlocksPerHost", "autoAllocateBlocks"});
  if (!spec) return spec.error();
  if (*spec == nullptr) return c;
  const json& sp = **spec;
  const std::string path = "spec";
  if (auto s = read_bool(sp, "strictAffinity", path, c.strict_affinity); !s) return s.error();
  if (auto s = read_bool(sp, "autoAllocateBlocks", path, c.auto_allocate_blocks); !s) return s.error();
  // Calico's maxBlocksPerHost is an int32; 0 means no limit.
  auto max = read_uint(sp, "maxBlocksPerHost", path, 0, 2147483647);
  if (!max) return max.error();
  if (*max) c.max_blocks_per_host = static_cast<std::uint32_t>(**max);
  return c;
}

json ip_reservation_spec(const IPReservation& r) {
  json cidrs = json::array();
  for (const auto& p : r.reserved_cidrs) cidrs.push_back(p.str());
  return json{{"reservedCIDRs", std::move(cidrs)}};
}

json ipam_configuration_spec(const IPAMConfiguration& c) {
  return json{{"strictAffinity", c.strict_affinity},
              {"maxBlocksPerHost", c.max_blocks_per_host},
              {"autoAllocateBlocks", c.auto_allocate_blocks}};
}

Status validate_ip_reservation(const IPReservation& r) {
  if (!valid_resource_name(r.name)) return invalid("metadata.name: \"" + r.name + "\" is not valid");
  if (r.reserved_cidrs.empty()) return invalid("spec.reservedCIDRs: must list at least one CIDR or address");
  if (r.reserved_cidrs.size() > kMaxReservedCidrs) {
    return invalid("spec.reservedCIDRs: at most " + std::to_string(kMaxReservedCidrs) + " entries");
  }
  return {};
}

Status validate_ipam_configuration(const IPAMConfiguration& c) {
  if (c.name != "default") {
    return invalid("metadata.name: \"" + c.name +
                   "\": the IPAMConfiguration must be named \"default\" (there is one, for the whole cluster)");
  }
  if (c.max_blocks_per_host > 2147483647U) return invalid("spec.maxBlocksPerHost: at most 2147483647");
  return {};
}

}  // namespace blockd::ipam
