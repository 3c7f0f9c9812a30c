// blockctl: the operator's CLI (ARCHITECTURE.md, Interfaces).
#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "agent/blockctl/commands.hpp"
#include "agent/bounded_input.hpp"
#include "agent/printable.hpp"
#include "agent/version.hpp"

namespace {

using namespace blockd;
using namespace blockd::agent::blockctl;

constexpr const char* kDefaultDatastore = "sqlite:///var/lib/blockd/blockd.db";

// --datastore, else $BLOCKD_DATASTORE, else the datastore of --config, else the default.
Result<std::string> datastore_url(const std::string& flag, const std::string& config) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("BLOCKD_DATASTORE"); env && *env) return std::string(env);
  if (!config.empty()) {
    auto text = agent::read_file_bounded(config, agent::kMaxConfigFileBytes, "--config " + config);
    if (!text) return text.error();
    try {
      const YAML::Node doc = YAML::Load(*text);
      if (doc["datastore"]) return doc["datastore"].as<std::string>();
      return invalid("--config " + config + ": no datastore field");
    } catch (const std::exception& e) {
      return invalid("--config " + config + ": " + e.what());
    }
  }
  return std::string(kDefaultDatastore);
}

int fail(const Error& e) {
  std::cerr << "error: " << agent::printable(e.message) << '\n';
  return exit_status(e);
}

std::optional<std::string> optional_text(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional(s);
}

// What the command line said, filled in by CLI11.
struct Options {
  std::string datastore, config;
  std::string file, output, kind, name;
  std::vector<std::string> names;  // delete KIND NAME
  std::string label_kind;
  std::vector<std::string> label_changes;
  bool overwrite = false;
  AllocateOptions alloc;
  std::string release_ip, release_handle, release_node;
  bool release_empty = false;
  bool force = false;  // delete node, ipam release --node: release workloads' addresses too
  bool show_blocks = false;
  bool show_configuration = false;
  CheckOptions check;
  std::string from_report;
  std::string strict_affinity;  // ipam configure --strictaffinity=true|false
  std::optional<std::uint32_t> max_blocks_per_host;
  std::string show_ip;
  std::string socket;
  std::string migrate_from, migrate_to;
  bool migrate_overwrite = false;
  std::string which;  // routes summary|advertised|received|kernel
};

// The subcommands, to ask which one was given.
struct Commands {
  CLI::App *create, *apply, *replace, *del, *get, *label;
  CLI::App *allocate, *release, *show, *check, *configure;
  CLI::App *node_status, *migrate, *routes;
};

void add_resource_commands(CLI::App& app, Options& o, Commands& c) {
  c.create = app.add_subcommand("create", "create resources from a YAML file (- for stdin)");
  c.apply = app.add_subcommand("apply", "create or update resources from a YAML file");
  c.replace = app.add_subcommand("replace", "update existing resources from a YAML file");
  for (auto* cmd : {c.create, c.apply, c.replace}) {
    cmd->add_option("-f,--filename", o.file, "YAML file, - for stdin")->required();
  }
  c.del = app.add_subcommand("delete", "delete resources: -f FILE, or KIND NAME");
  auto* del_file = c.del->add_option("-f,--filename", o.file, "YAML file, - for stdin");
  c.del->add_option("kind_name", o.names, "KIND NAME")->excludes(del_file)->expected(2);
  c.del->add_flag("--force", o.force, "a node: release the addresses its workloads still hold");
  c.get = app.add_subcommand("get", "show resources: ippool, node, bgppeer, bgpconfig, workload");
  c.get->add_option("kind", o.kind, "resource kind (any of Calico's aliases)")->required();
  c.get->add_option("name", o.name, "one resource by name");
  c.get->add_option("-o,--output", o.output, "wide, yaml or json");

  c.label = app.add_subcommand("label", "change node labels: label nodes NAME key=value... | key-");
  c.label->add_option("kind", o.label_kind, "nodes")->required();
  c.label->add_option("name", o.name, "node name")->required();
  c.label->add_option("changes", o.label_changes, "key=value to set, key- to remove")->required();
  c.label->add_flag("--overwrite", o.overwrite, "allow changing a label that has another value");
}

void add_ipam_commands(CLI::App& app, Options& o, Commands& c) {
  auto* ipam = app.add_subcommand("ipam", "IP address management");
  ipam->require_subcommand(1);
  c.allocate = ipam->add_subcommand("allocate", "allocate one address for a node; prints it");
  c.allocate->add_option("--node", o.alloc.node, "node name")->required();
  c.allocate->add_option("--handle", o.alloc.handle, "handle (one per workload)")->required();
  c.allocate->add_option("--pool", o.alloc.pools, "only from this pool (repeatable)");
  c.allocate->add_flag("--ipv6", o.alloc.ipv6, "allocate an IPv6 address");
  c.release = ipam->add_subcommand("release", "release an address or every address of a handle");
  auto* rip = c.release->add_option("--ip", o.release_ip, "address to release");
  auto* rhandle = c.release->add_option("--handle", o.release_handle, "handle to release")->excludes(rip);
  auto* rnode = c.release->add_option("--node", o.release_node, "release everything of a node (its tunnel address, gateways, blocks)")
      ->excludes(rip)
      ->excludes(rhandle);
  c.release->add_option("--from-report", o.from_report, "release what an `ipam check -o FILE` report names")
      ->excludes(rip)
      ->excludes(rhandle)
      ->excludes(rnode);
  c.release->add_flag("--force", o.force, "with --node: release its workloads' addresses too");
  c.release->add_flag("--release-empty-blocks", o.release_empty, "give a block back to its pool once it is empty");
  c.show = ipam->add_subcommand("show", "pool and block usage");
  c.show->add_flag("--show-blocks", o.show_blocks, "list every block with its affinity");
  c.show->add_option("--ip", o.show_ip, "show who holds one address");
  c.show->add_flag("--show-configuration", o.show_configuration, "the IPAMConfiguration in force");
  c.configure = ipam->add_subcommand("configure", "change the cluster's IPAM configuration (IPAMConfiguration default)");
  c.configure->add_option("--strictaffinity", o.strict_affinity, "true: no node borrows from another's block")
      ->check(CLI::IsMember({"true", "false"}));
  c.configure->add_option("--max-blocks-per-host", o.max_blocks_per_host, "blocks a node may hold (0: no limit)")
      ->check(CLI::Range(0u, 2147483647u));
  c.check = ipam->add_subcommand("check", "find leaks and inconsistencies (non-zero exit on any)");
  c.check->add_flag("--show-problem-ips", o.check.show_problem_ips, "list the addresses concerned");
  c.check->add_option("-o,--output", o.check.report_file, "write the problems to FILE (for ipam release --from-report)");
}

// Runtime commands ask the running blockd over its control socket; datastore migrate and
// routes summary read stores.
void add_runtime_commands(CLI::App& app, Options& o, Commands& c) {
  const std::string socket_help = "blockd's control socket (default: $BLOCKD_SOCKET, the config's control.socket, "
                                  "/run/blockd/blockd.sock)";
  auto* node = app.add_subcommand("node", "the running agent");
  node->require_subcommand(1);
  c.node_status = node->add_subcommand("status", "BGP peers of this node, as calicoctl node status");
  c.node_status->add_option("--socket", o.socket, socket_help);
  auto* datastore_cmd = app.add_subcommand("datastore", "the datastore itself");
  datastore_cmd->require_subcommand(1);
  c.migrate = datastore_cmd->add_subcommand("migrate", "copy all resources and IPAM state to another store");
  c.migrate->add_option("--from", o.migrate_from, "source store URL")->required();
  c.migrate->add_option("--to", o.migrate_to, "target store URL")->required();
  c.migrate->add_flag("--overwrite", o.migrate_overwrite, "replace what the target already holds");
  c.routes = app.add_subcommand(
      "routes", "summary (the default): the cluster's route reduction, from the datastore; "
                "advertised, received or kernel: routes of the running agent");
  c.routes->add_option("which", o.which, "summary, advertised, received or kernel")
      ->check(CLI::IsMember({"summary", "advertised", "received", "kernel"}));
  c.routes->add_option("--socket", o.socket, socket_help);
  c.routes->add_option("-o,--output", o.output, "wide or json");
}

bool wants_routes_summary(const Commands& c, const Options& o) {
  return c.routes->parsed() && (o.which.empty() || o.which == "summary");
}

// node status, routes advertised|received|kernel: over the running agent's control socket.
Status run_agent_command(const Commands& c, const Options& o) {
  auto path = control_socket(o.socket, o.config);
  if (!path) return path.error();
  if (c.node_status->parsed()) return node_status(*path, std::cout);
  auto format = parse_output_format(o.output);
  return format ? routes(*path, o.which, *format, std::cout) : Status(format.error());
}

Status run_migrate(const Options& o) {
  auto from = ipam::open_datastore(o.migrate_from);
  if (!from) return from.error().within("--from");
  auto to = ipam::open_datastore(o.migrate_to);
  if (!to) return to.error().within("--to");
  return datastore_migrate(**from, **to, o.migrate_overwrite, std::cout);
}

// The commands that read or change the datastore.
Status run_store_command(ipam::Datastore& ds, const Commands& c, const Options& o) {
  if (c.create->parsed()) return apply_file(ds, o.file, ipam::WriteMode::Create, std::cout);
  if (c.apply->parsed()) return apply_file(ds, o.file, ipam::WriteMode::Apply, std::cout);
  if (c.replace->parsed()) return apply_file(ds, o.file, ipam::WriteMode::Replace, std::cout);
  if (c.del->parsed()) {
    if (!o.file.empty()) return delete_file(ds, o.file, o.force, std::cout);
    if (o.names.size() == 2) return delete_named(ds, o.names[0], o.names[1], o.force, std::cout);
    return invalid("delete: give -f FILE or KIND NAME");
  }
  if (c.get->parsed()) {
    auto format = parse_output_format(o.output);
    return format ? agent::blockctl::get(ds, o.kind, optional_text(o.name), *format, std::cout) : Status(format.error());
  }
  if (c.label->parsed()) {
    auto k = ipam::canonical_kind(o.label_kind);
    return (k && *k == "Node") ? label_node(ds, o.name, o.label_changes, o.overwrite, std::cout)
                               : Status(invalid("label: only nodes can be labelled (blockctl label nodes NAME key=value)"));
  }
  if (c.allocate->parsed()) return ipam_allocate(ds, o.alloc, std::cout);
  if (c.release->parsed()) {
    if (!o.release_node.empty()) return release_node(ds, o.release_node, o.force, std::cout);
    if (!o.from_report.empty()) return ipam_release_report(ds, o.from_report, std::cout);
    return ipam_release(ds, optional_text(o.release_ip), optional_text(o.release_handle), o.release_empty, std::cout);
  }
  if (c.show->parsed()) {
    if (o.show_configuration) return ipam_show_configuration(ds, std::cout);
    return ipam_show(ds, o.show_blocks, optional_text(o.show_ip), std::cout);
  }
  if (c.configure->parsed()) {
    IpamConfigureOptions options;
    if (!o.strict_affinity.empty()) options.strict_affinity = o.strict_affinity == "true";
    options.max_blocks_per_host = o.max_blocks_per_host;
    return ipam_configure(ds, options, std::cout);
  }
  if (c.check->parsed()) return ipam_check(ds, o.check, std::cout);
  if (wants_routes_summary(c, o)) {
    auto format = parse_output_format(o.output);
    return format ? agent::blockctl::routes_summary(ds, *format, std::cout) : Status(format.error());
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"blockctl: inspect and change blockd's pools, nodes, BGP peers and IPAM; ask the running agent"};
  app.require_subcommand(1);
  Options o;
  Commands c{};
  app.set_version_flag("--version", "blockctl " + std::string(version()));
  auto* ds_opt = app.add_option("--datastore", o.datastore, "sqlite:///abs/path.db or etcd://host:port[,host:port]");
  app.add_option("--config", o.config, "a blockd config file; its datastore is used")->excludes(ds_opt);
  add_resource_commands(app, o, c);
  add_ipam_commands(app, o, c);
  add_runtime_commands(app, o, c);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --help-all, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n(run blockctl --help for usage)\n";
    return 1;
  }

  Status status;
  if (c.node_status->parsed() || (c.routes->parsed() && !wants_routes_summary(c, o))) {
    status = run_agent_command(c, o);
  } else if (c.migrate->parsed()) {
    status = run_migrate(o);
  } else {
    auto url = datastore_url(o.datastore, o.config);
    if (!url) return fail(url.error());
    auto store = ipam::open_datastore(*url);
    if (!store) return fail(store.error());
    for (const auto& w : (*store)->warnings()) std::cerr << "warning: " << agent::printable(w) << '\n';
    status = run_store_command(**store, c, o);
  }
  if (!status) return fail(status.error());
  return 0;
}
