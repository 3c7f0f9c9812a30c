// A YAML stream as JSON documents, the first layer of the resource codec: the stream is checked
// (UTF-8, YAML 1.2's printable characters), split at its document markers, and each document is
// typed into JSON as YAML 1.2's core schema does, with bounds on depth and size.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "ipam/net/result.hpp"

namespace blockd::ipam {

// Calls `each` with every non-empty document of the stream, in order, and its name as a user
// counts documents ("document 2"). Stops at the first error: a YAML syntax error names the line
// of the stream; a document that does not convert is named; `each`'s own error is returned as is.
Status for_each_yaml_document(std::string_view yaml,
                              const std::function<Status(nlohmann::json doc, const std::string& where)>& each);

}  // namespace blockd::ipam
