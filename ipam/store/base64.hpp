// Base64 (RFC 4648 §4, with padding): etcd's JSON gateway carries keys and values as bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace blockd::ipam {

std::string base64_encode(std::string_view bytes);
// Empty when the text is not canonical padded base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace blockd::ipam
