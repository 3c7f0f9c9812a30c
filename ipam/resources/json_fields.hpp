// Reading a resource's JSON field by field: each reader names the field's path in its error
// ("spec.blockSize: expected a number, got \"x\""), absent and null fields keep their default, and
// unknown fields are errors naming the nearest known one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "ipam/net/encap_mode.hpp"
#include "ipam/net/prefix.hpp"
#include "ipam/net/result.hpp"
#include "ipam/resources/labels.hpp"

namespace blockd::ipam::json_fields {

using nlohmann::json;

// "spec" + "cidr" -> "spec.cidr".
std::string join_path(const std::string& path, const std::string& key);
// A value's kind and text for messages: `a string ("x")`, `a number (3)`.
std::string describe(const json& j);
Error wrong_type(const std::string& field, const std::string& want, const json& got);
// Lower case without '-' and '_', to suggest the field or value meant.
std::string squash(std::string_view s);
// Unknown fields are errors: a typo must not silently become a default.
Status check_fields(const json& obj, const std::string& path, std::initializer_list<std::string_view> known);
// A field that is absent or null keeps its default (nullptr here).
const json* field(const json& obj, const char* key);
Result<const json*> object_field(const json& obj, const char* key, const std::string& path);
Status read_string(const json& obj, const char* key, const std::string& path, std::string& out);
Status read_bool(const json& obj, const char* key, const std::string& path, bool& out);
// An integer in [lo, max]; out of range names the accepted range.
Result<std::optional<std::uint64_t>> read_uint(const json& obj, const char* key, const std::string& path,
                                               std::uint64_t lo, std::uint64_t max,
                                               const std::string& range_note = "");
// AS numbers: a number, or a string holding a number or the asdot form "1.10" (RFC 5396).
Result<std::optional<std::uint32_t>> read_asn(const json& obj, const char* key, const std::string& path);
Result<std::optional<Address>> read_address(const json& obj, const char* key, const std::string& path);
Result<std::optional<InterfaceAddress>> read_interface_address(const json& obj, const char* key,
                                                               const std::string& path);
Result<EncapMode> read_encap(const json& obj, const char* key, const std::string& path);
// Label values may come as numbers or booleans (JSON written by hand); they become their text.
Status read_string_map(const json& obj, const char* key, const std::string& path, Labels& out);
// metadata: name, labels (into *labels when given), annotations and the fields Calico's tools write.
// labels/annotations null: read (their types checked) and dropped.
Status read_metadata(const json& doc, Labels* labels, Labels* annotations = nullptr);
// The preamble every kind's decoder shares: its metadata read (as read_metadata), then its spec,
// nullptr when absent or null, else a mapping whose fields are all in `known`.
Result<const json*> read_spec(const json& doc, std::initializer_list<std::string_view> known,
                              Labels* labels = nullptr, Labels* annotations = nullptr);
// Every input is bounded (ARCHITECTURE.md, Invariants): lists hold at most this many entries
// unless the field has a limit of its own.
inline constexpr std::size_t kMaxListEntries = 1000;
// A list field (nullptr when absent or null) of at most max_entries entries.
Result<const json*> list_field(const json& obj, const char* key, const std::string& path,
                               std::size_t max_entries = kMaxListEntries);

}  // namespace blockd::ipam::json_fields
