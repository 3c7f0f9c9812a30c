// blockctl's commands (ARCHITECTURE.md, Interfaces). Each returns a Status; main() turns an error
// into a message on stderr and exit status 1 (the user's error) or 2 (internal/environment).
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ipam/store/datastore.hpp"
#include "ipam/resource_store.hpp"

namespace blockd::agent::blockctl {

enum class OutputFormat { Table, Wide, Yaml, Json };
Result<OutputFormat> parse_output_format(const std::string& text);

// Resources.
Status apply_file(ipam::Datastore& store, const std::string& file, ipam::WriteMode mode, std::ostream& out);
// Deleting a Node releases its IPAM first (release_node); force releases its workloads too.
Status delete_file(ipam::Datastore& store, const std::string& file, bool force, std::ostream& out);
Status delete_named(ipam::Datastore& store, const std::string& kind_word, const std::string& name, bool force,
                    std::ostream& out);
// The IPAM part of removing a node (ipam/node_release.hpp): its tunnel address, its pods'
// gateways and its blocks; refused, naming them, while workloads hold addresses on it unless force.
Status release_node(ipam::Datastore& store, const std::string& node, bool force, std::ostream& out);
Status get(ipam::Datastore& store, const std::string& kind_word, const std::optional<std::string>& name,
           OutputFormat format, std::ostream& out);
// kubectl's syntax: key=value sets (changing a value needs overwrite), key- removes.
Status label_node(ipam::Datastore& store, const std::string& node, const std::vector<std::string>& changes,
                  bool overwrite, std::ostream& out);

// IPAM.
struct AllocateOptions {
  std::string node;
  std::string handle;
  std::vector<std::string> pools;
  bool ipv6 = false;
};
Status ipam_allocate(ipam::Datastore& store, const AllocateOptions& options, std::ostream& out);
Status ipam_release(ipam::Datastore& store, const std::optional<std::string>& ip,
                    const std::optional<std::string>& handle, bool release_empty_blocks, std::ostream& out);
Status ipam_show(ipam::Datastore& store, bool show_blocks, const std::optional<std::string>& ip, std::ostream& out);
// Problems make it fail (exit 1) after printing them all, each with its id
// (ipam_report_commands.cpp).
struct CheckOptions {
  bool show_problem_ips = false;  // also a table of the addresses concerned
  std::string report_file;        // -o: the problems as JSON, for ipam release --from-report
};
Status ipam_check(ipam::Datastore& store, const CheckOptions& options, std::ostream& out);
inline Status ipam_check(ipam::Datastore& store, std::ostream& out) { return ipam_check(store, {}, out); }
// Releases what a report names, each item re-checked with compare-and-swap.
inline constexpr std::size_t kMaxReportFileBytes = 256 << 20;
Status ipam_release_report(ipam::Datastore& store, const std::string& file, std::ostream& out);
// calicoctl ipam configure: changes the IPAMConfiguration "default" (ipam_configure.cpp).
struct IpamConfigureOptions {
  std::optional<bool> strict_affinity;
  std::optional<std::uint32_t> max_blocks_per_host;
};
Status ipam_configure(ipam::Datastore& store, const IpamConfigureOptions& options, std::ostream& out);
// calicoctl ipam show --show-configuration.
Status ipam_show_configuration(ipam::Datastore& store, std::ostream& out);

// The cluster's route reduction from the store (agent/route_reduction.hpp): per node its
// workloads, blocks and the routes it advertises, then the reduction line.
Status routes_summary(ipam::Datastore& store, OutputFormat format, std::ostream& out);

// Copies every resource and all IPAM state between stores (e.g. SQLite to etcd), refusing a
// target that already holds blockd data unless overwrite, then runs `ipam check` on the target.
Status datastore_migrate(ipam::Datastore& from, ipam::Datastore& to, bool overwrite, std::ostream& out);

// Runtime: ask the running agent over its control socket (agent/control_api.hpp). An agent that
// can not be reached is Unavailable (exit 2).
// The socket: --socket, else $BLOCKD_SOCKET, else control.socket of --config, else the default.
Result<std::string> control_socket(const std::string& flag, const std::string& config);
// `calicoctl node status` style: "blockd process is running.", then IPv4 and IPv6 peer tables
// (PEER ADDRESS | PEER TYPE | STATE | SINCE | INFO), then the agent's warnings.
Status node_status(const std::string& socket, std::ostream& out);
void print_node_status(const nlohmann::json& status, const nlohmann::json& peers,
                       std::chrono::system_clock::time_point now, std::ostream& out);
// which: advertised, received or kernel; -o wide adds columns, -o json prints the API's JSON.
// advertised ends with the route-reduction line ("N routes advertised for M workload addresses").
Status routes(const std::string& socket, const std::string& which, OutputFormat format, std::ostream& out);
Status print_routes(const std::string& which, const nlohmann::json& answer, OutputFormat format, std::ostream& out);

}  // namespace blockd::agent::blockctl
