// Resources to and from YAML/JSON in Calico's own shape (apiVersion, kind, metadata, spec), so
// the YAML of Calico's docs loads unchanged. Storage uses the same JSON form.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ipam/resources/resources.hpp"
#include "ipam/net/result.hpp"

namespace blockd::ipam {

// Every document of a multi-document YAML stream (empty documents skipped; a `kind: List` or
// `kind: IPPoolList` with `items` expands to its items). Each resource is decoded and checked
// with validate(); the first error names the document number, kind, name, field and rule:
//   `document 2: IPPool rack-0-ippool: spec.blockSize: 33 is out of range (20 to 32 for IPv4)`.
// apiVersion must be projectcalico.org/v3 (blockd.io/v1 accepted too); unknown fields are
// errors naming the field (a typo must not silently become a default). Documents are numbered
// as a user counts them (empty ones skipped); YAML syntax errors name the line of the stream.
Result<std::vector<Resource>> parse_resources_yaml(std::string_view yaml);

// One resource from its Calico JSON document (also what the store holds). Decodes only, with
// the same field errors ("IPPool p: spec.cidr: ..."); call validate() for the rules and defaults.
Result<Resource> resource_from_json(const nlohmann::json& doc);
nlohmann::json resource_to_json(const Resource& r);
std::string resource_to_yaml(const Resource& r);

}  // namespace blockd::ipam
