// blockd's version for `--version`: the CMake project version, with the commit when built from
// a git checkout (cmake/write_version.cmake writes the definition at build time).
#pragma once

#include <string_view>

namespace blockd {

std::string_view version();

}  // namespace blockd
