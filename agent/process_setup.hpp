// What blockd sets up in its own process before it serves: the log format and its descriptor
// budget.
#pragma once

#include <string>

namespace blockd::agent {

// spdlog's pattern for blockd, with the message's control characters escaped (printable.hpp):
// a handle or network name holding ESC or a newline cannot recolour a terminal or forge a line.
void use_escaping_log_format();

// RLIMIT_NOFILE's soft limit raised to the hard limit (systemd's default soft limit is 1024,
// its hard limit 524288). Returns what was done, for the log.
std::string raise_open_files_limit();

}  // namespace blockd::agent
