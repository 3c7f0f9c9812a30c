// blockctl's commands (DESIGN.md, Interfaces). Each returns a Status; main() turns an error
// into a message on stderr and exit status 1 (the user's error) or 2 (internal/environment).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ipam/datastore.hpp"
#include "ipam/resource_store.hpp"

namespace blockd::agent::blockctl {

enum class OutputFormat { Table, Wide, Yaml, Json };
Result<OutputFormat> parse_output_format(const std::string& text);

// Resources.
Status apply_file(ipam::Datastore& store, const std::string& file, ipam::WriteMode mode, std::ostream& out);
Status delete_file(ipam::Datastore& store, const std::string& file, std::ostream& out);
Status delete_named(ipam::Datastore& store, const std::string& kind_word, const std::string& name, std::ostream& out);
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
// Problems make it fail (exit 1) after printing them all.
Status ipam_check(ipam::Datastore& store, std::ostream& out);

}  // namespace blockd::agent::blockctl
