// blockd-ipam: the CNI IPAM plugin executable (cni_plugin.hpp has the logic). The runtime (or a
// main plugin such as ptp) runs it with CNI_* in the environment and the network config on stdin.
#include <cstdlib>
#include <iostream>
#include <string>

#include "agent/bounded_input.hpp"
#include "agent/cni/cni_plugin.hpp"

int main() {
  using namespace blockd::agent::cni;
  // One byte over the limit is enough for parse_network_config to refuse it by name.
  std::string input(blockd::agent::kMaxCniConfigBytes + 1, '\0');
  std::cin.read(input.data(), static_cast<std::streamsize>(input.size()));
  input.resize(static_cast<std::size_t>(std::cin.gcount()));
  const Output out = run(parse_environment([](const char* name) { return std::getenv(name); }), input,
                         [](const std::string& socket) { return control_socket_api(socket); });
  std::cout << out.stdout_text << std::flush;
  return out.exit_status;
}
