// blockctl: the operator's CLI (ARCHITECTURE.md, Interfaces).
#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <iostream>

#include "agent/blockctl/commands.hpp"

namespace {

using namespace blockd;
using namespace blockd::agent::blockctl;

constexpr const char* kDefaultDatastore = "sqlite:///var/lib/blockd/blockd.db";

// --datastore, else $BLOCKD_DATASTORE, else the datastore of --config, else the default.
Result<std::string> datastore_url(const std::string& flag, const std::string& config) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("BLOCKD_DATASTORE"); env && *env) return std::string(env);
  if (!config.empty()) {
    try {
      const YAML::Node doc = YAML::LoadFile(config);
      if (doc["datastore"]) return doc["datastore"].as<std::string>();
      return invalid("--config " + config + ": no datastore field");
    } catch (const std::exception& e) {
      return invalid("--config " + config + ": " + e.what());
    }
  }
  return std::string(kDefaultDatastore);
}

int fail(const Error& e) {
  std::cerr << "error: " << e.message << '\n';
  return exit_status(e);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"blockctl: inspect and change blockd's pools, nodes, BGP peers and IPAM; ask the running agent"};
  app.require_subcommand(1);
  std::string datastore, config;
  auto* ds_opt = app.add_option("--datastore", datastore, "sqlite:///abs/path.db or etcd://host:port[,host:port]");
  app.add_option("--config", config, "a blockd config file; its datastore is used")->excludes(ds_opt);

  std::string file, output, kind, name;
  std::vector<std::string> names;
  auto* create = app.add_subcommand("create", "create resources from a YAML file (- for stdin)");
  auto* apply = app.add_subcommand("apply", "create or update resources from a YAML file");
  auto* replace = app.add_subcommand("replace", "update existing resources from a YAML file");
  for (auto* c : {create, apply, replace}) c->add_option("-f,--filename", file, "YAML file, - for stdin")->required();
  auto* del = app.add_subcommand("delete", "delete resources: -f FILE, or KIND NAME");
  auto* del_file = del->add_option("-f,--filename", file, "YAML file, - for stdin");
  del->add_option("kind_name", names, "KIND NAME")->excludes(del_file)->expected(2);
  auto* get = app.add_subcommand("get", "show resources: ippool, node, bgppeer, bgpconfig, workload");
  get->add_option("kind", kind, "resource kind (any of Calico's aliases)")->required();
  get->add_option("name", name, "one resource by name");
  get->add_option("-o,--output", output, "wide, yaml or json");

  auto* label = app.add_subcommand("label", "change node labels: label nodes NAME key=value... | key-");
  std::string label_kind;
  std::vector<std::string> label_changes;
  bool overwrite = false;
  label->add_option("kind", label_kind, "nodes")->required();
  label->add_option("name", name, "node name")->required();
  label->add_option("changes", label_changes, "key=value to set, key- to remove")->required();
  label->add_flag("--overwrite", overwrite, "allow changing a label that has another value");

  auto* ipam = app.add_subcommand("ipam", "IP address management");
  ipam->require_subcommand(1);
  AllocateOptions alloc;
  auto* allocate = ipam->add_subcommand("allocate", "allocate one address for a node; prints it");
  allocate->add_option("--node", alloc.node, "node name")->required();
  allocate->add_option("--handle", alloc.handle, "handle (one per workload)")->required();
  allocate->add_option("--pool", alloc.pools, "only from this pool (repeatable)");
  allocate->add_flag("--ipv6", alloc.ipv6, "allocate an IPv6 address");
  std::string release_ip, release_handle;
  bool release_empty = false;
  auto* release = ipam->add_subcommand("release", "release an address or every address of a handle");
  auto* rip = release->add_option("--ip", release_ip, "address to release");
  release->add_option("--handle", release_handle, "handle to release")->excludes(rip);
  release->add_flag("--release-empty-blocks", release_empty, "give a block back to its pool once it is empty");
  bool show_blocks = false;
  std::string show_ip;
  auto* show = ipam->add_subcommand("show", "pool and block usage");
  show->add_flag("--show-blocks", show_blocks, "list every block with its affinity");
  show->add_option("--ip", show_ip, "show who holds one address");
  auto* check = ipam->add_subcommand("check", "find leaks and inconsistencies (non-zero exit on any)");

  // Runtime commands: these ask the running blockd over its control socket.
  std::string socket;
  const std::string socket_help = "blockd's control socket (default: $BLOCKD_SOCKET, the config's control.socket, "
                                  "/run/blockd/blockd.sock)";
  auto* node = app.add_subcommand("node", "the running agent");
  node->require_subcommand(1);
  auto* node_status_cmd = node->add_subcommand("status", "BGP peers of this node, as calicoctl node status");
  node_status_cmd->add_option("--socket", socket, socket_help);
  auto* datastore_cmd = app.add_subcommand("datastore", "the datastore itself");
  datastore_cmd->require_subcommand(1);
  std::string migrate_from, migrate_to;
  bool migrate_overwrite = false;
  auto* migrate = datastore_cmd->add_subcommand("migrate", "copy all resources and IPAM state to another store");
  migrate->add_option("--from", migrate_from, "source store URL")->required();
  migrate->add_option("--to", migrate_to, "target store URL")->required();
  migrate->add_flag("--overwrite", migrate_overwrite, "replace what the target already holds");
  std::string which;
  auto* routes_cmd = app.add_subcommand(
      "routes", "summary (the default): the cluster's route reduction, from the datastore; "
                "advertised, received or kernel: routes of the running agent");
  routes_cmd->add_option("which", which, "summary, advertised, received or kernel")
      ->check(CLI::IsMember({"summary", "advertised", "received", "kernel"}));
  routes_cmd->add_option("--socket", socket, socket_help);
  routes_cmd->add_option("-o,--output", output, "wide or json");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n(run blockctl --help for usage)\n";
    return 1;
  }

  const bool routes_summary_cmd = routes_cmd->parsed() && (which.empty() || which == "summary");
  if (node_status_cmd->parsed() || (routes_cmd->parsed() && !routes_summary_cmd)) {
    auto path = control_socket(socket, config);
    if (!path) return fail(path.error());
    Status status;
    if (node_status_cmd->parsed()) {
      status = node_status(*path, std::cout);
    } else {
      auto format = parse_output_format(output);
      status = format ? routes(*path, which, *format, std::cout) : Status(format.error());
    }
    if (!status) return fail(status.error());
    return 0;
  }

  if (migrate->parsed()) {
    auto from = ipam::open_datastore(migrate_from);
    if (!from) return fail(from.error().within("--from"));
    auto to = ipam::open_datastore(migrate_to);
    if (!to) return fail(to.error().within("--to"));
    if (auto ok = datastore_migrate(**from, **to, migrate_overwrite, std::cout); !ok) return fail(ok.error());
    return 0;
  }

  auto url = datastore_url(datastore, config);
  if (!url) return fail(url.error());
  auto store = ipam::open_datastore(*url);
  if (!store) return fail(store.error());
  ipam::Datastore& ds = **store;

  Status status;
  if (create->parsed()) {
    status = apply_file(ds, file, ipam::WriteMode::Create, std::cout);
  } else if (apply->parsed()) {
    status = apply_file(ds, file, ipam::WriteMode::Apply, std::cout);
  } else if (replace->parsed()) {
    status = apply_file(ds, file, ipam::WriteMode::Replace, std::cout);
  } else if (del->parsed()) {
    if (!file.empty()) {
      status = delete_file(ds, file, std::cout);
    } else if (names.size() == 2) {
      status = delete_named(ds, names[0], names[1], std::cout);
    } else {
      status = invalid("delete: give -f FILE or KIND NAME");
    }
  } else if (get->parsed()) {
    auto format = parse_output_format(output);
    status = format ? agent::blockctl::get(ds, kind, name.empty() ? std::nullopt : std::optional(name), *format, std::cout)
                    : Status(format.error());
  } else if (label->parsed()) {
    auto k = ipam::canonical_kind(label_kind);
    status = (k && *k == "Node") ? label_node(ds, name, label_changes, overwrite, std::cout)
                                 : Status(invalid("label: only nodes can be labelled (blockctl label nodes NAME key=value)"));
  } else if (allocate->parsed()) {
    status = ipam_allocate(ds, alloc, std::cout);
  } else if (release->parsed()) {
    status = ipam_release(ds, release_ip.empty() ? std::nullopt : std::optional(release_ip),
                          release_handle.empty() ? std::nullopt : std::optional(release_handle), release_empty,
                          std::cout);
  } else if (show->parsed()) {
    status = ipam_show(ds, show_blocks, show_ip.empty() ? std::nullopt : std::optional(show_ip), std::cout);
  } else if (check->parsed()) {
    status = ipam_check(ds, std::cout);
  } else if (routes_summary_cmd) {
    auto format = parse_output_format(output);
    status = format ? routes_summary(ds, *format, std::cout) : Status(format.error());
  }
  if (!status) return fail(status.error());
  return 0;
}
