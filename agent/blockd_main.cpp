// blockd: the node agent (ARCHITECTURE.md). `blockd --config FILE` runs it; `--cleanup` removes
// everything it owns in the kernel (routes with its protocol number, neighbour/FDB entries on
// its devices, its devices, its nftables table) and exits; `--check-config` checks the file and exits.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "agent/config.hpp"
#include "agent/node_agent.hpp"
#include "agent/process_setup.hpp"
#include "agent/version.hpp"
#include "netlink/device.hpp"
#include "netlink/libnl_kernel.hpp"
#include "netlink/nat_table.hpp"
#include "netlink/programmer.hpp"

namespace {

using namespace blockd;

int fail(const Error& e) {
  spdlog::critical("{}", e.message);
  std::cerr << "blockd: " << e.message << '\n';
  return exit_status(e);
}

// Routes with blockd's protocol number, neighbour/FDB entries on its devices, the devices.
int cleanup(const agent::AgentConfig& config) {
  auto kernel = netlink::LibnlKernel::open();
  if (!kernel) return fail(kernel.error());
  netlink::ProgrammerConfig pc;
  pc.protocol = config.dataplane.route_protocol;
  pc.owned_devices = {config.dataplane.vxlan_device};
  netlink::Programmer programmer(**kernel, pc);
  auto report = programmer.cleanup();
  if (!report) return fail(report.error());
  std::cout << "removed " << report->routes.removed << " routes, " << report->neighbours.removed
            << " neighbour entries, " << report->fdb.removed << " FDB entries\n";
  for (auto [name, kind] : {std::pair{config.dataplane.vxlan_device, "vxlan"}, {config.dataplane.ipip_device, "ipip"}}) {
    if (auto ok = netlink::delete_device(name, kind); !ok) return fail(ok.error());
  }
  std::cout << "removed devices " << config.dataplane.vxlan_device << " and " << config.dataplane.ipip_device
            << " (where present)\n";
  auto nat = netlink::NatTable::open();
  if (!nat) return fail(nat.error());
  if (auto ok = (*nat)->cleanup(); !ok) return fail(ok.error());
  std::cout << "removed nftables table inet " << (*nat)->table_name() << " (natOutgoing)\n";
  return report->failed.empty() ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"blockd: the node agent (IPAM, BGP to the ToR, kernel routes)"};
  std::string config_path;
  bool do_cleanup = false;
  bool check_config = false;
  app.set_version_flag("--version", "blockd " + std::string(version()));
  app.add_option("--config", config_path, "the agent's YAML configuration")->required();
  app.add_flag("--cleanup", do_cleanup,
               "remove everything blockd owns in the kernel (its routes, neighbour/FDB entries, devices, nftables table) and exit");
  app.add_flag("--check-config", check_config, "check every field of the configuration and exit (status 0: valid)")
      ->excludes("--cleanup");
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "blockd: " << e.what() << "\n";
    return 1;
  }
  auto config = agent::load_agent_config(config_path);
  if (!config) return fail(config.error());
  if (check_config) {
    std::cout << config_path << ": valid configuration for node " << config->node.name << '\n';
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level.value_or("info")));
  agent::use_escaping_log_format();
  if (do_cleanup) return cleanup(*config);
  spdlog::info("{}", agent::raise_open_files_limit());

  boost::asio::io_context io;
  agent::NodeAgent node(io, *config);
  if (auto ok = node.start(); !ok) return fail(ok.error());

  boost::asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  stop_signals.async_wait([&](boost::system::error_code, int sig) {
    spdlog::info("signal {}: stopping (kernel routes stay; peers keep ours through graceful restart)", sig);
    node.stop();
    node.when_stopped([&] { io.stop(); });  // a Cease NOTIFICATION (no graceful restart) still goes out
  });
  boost::asio::signal_set hup(io, SIGHUP);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      auto fresh = agent::load_agent_config(config_path);
      if (!fresh) {
        spdlog::error("SIGHUP: keeping the running configuration: {}", fresh.error().message);
      } else if (auto ok = node.reload(*fresh); !ok) {
        spdlog::error("SIGHUP: {}", ok.error().message);
      } else {
        spdlog::info("SIGHUP: configuration reloaded");
      }
      wait_hup();
    });
  };
  wait_hup();
  io.run();
  return 0;
}
