// Kubernetes-style labels (a Node's metadata.labels), what selectors match.
#pragma once

#include <map>
#include <string>

namespace blockd::ipam {

using Labels = std::map<std::string, std::string>;

}  // namespace blockd::ipam
