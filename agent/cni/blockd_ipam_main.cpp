// blockd-ipam: the CNI IPAM plugin executable (cni_plugin.hpp has the logic). The runtime (or a
// main plugin such as ptp) runs it with CNI_* in the environment and the network config on stdin.
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include "agent/cni/cni_plugin.hpp"

int main() {
  using namespace blockd::agent::cni;
  const std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  const Output out = run(parse_environment([](const char* name) { return std::getenv(name); }), input,
                         [](const std::string& socket) { return control_socket_api(socket); });
  std::cout << out.stdout_text << std::flush;
  return out.exit_status;
}
