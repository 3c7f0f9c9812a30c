// blockd-ipam: the CNI IPAM plugin executable (cni_plugin.hpp has the logic). The runtime (or a
// main plugin such as ptp) runs it with CNI_* in the environment and the network config on stdin.
// Run by hand, `--version` and `--help` answer (a runtime passes no arguments).
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "agent/bounded_input.hpp"
#include "agent/cni/cni_plugin.hpp"
#include "agent/version.hpp"

namespace {

void print_version() {
  std::cout << "blockd-ipam " << blockd::version() << "\nCNI protocol versions supported:";
  for (const char* v : blockd::agent::cni::kSupportedVersions) std::cout << ' ' << v;
  std::cout << '\n';
}

void print_help() {
  std::cout << "blockd-ipam: CNI IPAM plugin that gets workload addresses from the local blockd\n"
               "Usage: CNI_COMMAND=ADD|DEL|CHECK|VERSION CNI_CONTAINERID=... CNI_NETNS=... CNI_IFNAME=... "
               "blockd-ipam < network-config.json\n"
               "Options:\n"
               "  -h,--help    Print this help message and exit\n"
               "  --version    Display program version information and exit\n";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace blockd::agent::cni;
  if (argc > 1) {
    const std::string_view arg = argv[1];
    if (arg == "--version") {
      print_version();
      return 0;
    }
    if (arg == "--help" || arg == "-h") {
      print_help();
      return 0;
    }
    std::cerr << "blockd-ipam: unknown argument " << arg << " (a CNI plugin takes its input from CNI_* and stdin; see --help)\n";
    return 1;
  }
  // In chunks, until past the limit (parse_network_config refuses that by name): a buffer of
  // the whole limit costs a zeroed megabyte, a quarter of a small ADD's time, on every call.
  std::string input;
  char chunk[16384];
  while (input.size() <= blockd::agent::kMaxCniConfigBytes) {
    std::cin.read(chunk, sizeof chunk);
    if (std::cin.gcount() == 0) break;
    input.append(chunk, static_cast<std::size_t>(std::cin.gcount()));
  }
  const Output out = run(parse_environment([](const char* name) { return std::getenv(name); }), input,
                         [](const std::string& socket) { return control_socket_api(socket); });
  std::cout << out.stdout_text << std::flush;
  return out.exit_status;
}
