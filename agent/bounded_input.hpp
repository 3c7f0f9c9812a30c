// Reading what a user or a runtime hands blockd's programs, never more than a stated size: a
// 100 MB CNI config or YAML file is refused after reading the limit, not parsed into 400 MB.
#pragma once

#include <cstddef>
#include <istream>
#include <string>

#include "ipam/net/result.hpp"

namespace blockd::agent {

// Limits, documented in README.md (Limits).
inline constexpr std::size_t kMaxCniConfigBytes = 1 << 20;       // blockd-ipam's stdin
inline constexpr std::size_t kMaxResourceFileBytes = 16 << 20;   // blockctl create|apply|replace|delete -f
inline constexpr std::size_t kMaxConfigFileBytes = 1 << 20;      // blockd --config, blockctl --config

// At most `limit` bytes of `in`; more is Invalid naming `what` and the limit.
Result<std::string> read_bounded(std::istream& in, std::size_t limit, const std::string& what);
// The same for a file ("-": standard input); an unreadable file is Invalid naming it.
Result<std::string> read_file_bounded(const std::string& path, std::size_t limit, const std::string& what);

}  // namespace blockd::agent
