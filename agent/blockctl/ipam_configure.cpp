// `blockctl ipam configure` and `ipam show --show-configuration`, as calicoctl has them: the
// IPAMConfiguration "default" (created with Calico's defaults on first change).
#include "agent/blockctl/commands.hpp"
#include "agent/table.hpp"

namespace blockd::agent::blockctl {
namespace {

using namespace blockd::ipam;

Result<IPAMConfiguration> current_configuration(ResourceStore& rs) {
  auto stored = rs.get("IPAMConfiguration", "default");
  if (!stored) return stored.error();
  if (!stored->has_value()) {
    IPAMConfiguration defaults;  // Calico's defaults
    defaults.name = "default";
    return defaults;
  }
  return std::get<IPAMConfiguration>(**stored);
}

}  // namespace

Status ipam_configure(Datastore& store, const IpamConfigureOptions& options, std::ostream& out) {
  if (!options.strict_affinity && !options.max_blocks_per_host) {
    return invalid("ipam configure: give --strictaffinity=true|false and/or --max-blocks-per-host=N");
  }
  ResourceStore rs(store);
  auto config = current_configuration(rs);
  if (!config) return config.error();
  if (options.strict_affinity) config->strict_affinity = *options.strict_affinity;
  if (options.max_blocks_per_host) config->max_blocks_per_host = *options.max_blocks_per_host;
  if (auto ok = rs.write(*config, WriteMode::Apply); !ok) return ok;
  if (options.strict_affinity) {
    out << "Successfully set StrictAffinity to: " << (config->strict_affinity ? "true" : "false") << '\n';
  }
  if (options.max_blocks_per_host) {
    out << "Successfully set MaxBlocksPerHost to: " << config->max_blocks_per_host << '\n';
  }
  return {};
}

Status ipam_show_configuration(Datastore& store, std::ostream& out) {
  ResourceStore rs(store);
  auto config = current_configuration(rs);
  if (!config) return config.error();
  Table t({"PROPERTY", "VALUE"});
  t.add({"StrictAffinity", config->strict_affinity ? "true" : "false"});
  t.add({"AutoAllocateBlocks", config->auto_allocate_blocks ? "true" : "false"});
  t.add({"MaxBlocksPerHost", std::to_string(config->max_blocks_per_host)});
  t.print(out);
  return {};
}

}  // namespace blockd::agent::blockctl
