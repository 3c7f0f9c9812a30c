#include "agent/bounded_input.hpp"

#include <fstream>
#include <iostream>

namespace blockd::agent {

Result<std::string> read_bounded(std::istream& in, std::size_t limit, const std::string& what) {
  std::string out;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<std::size_t>(in.gcount()));
    if (out.size() > limit) {
      return invalid(what + ": larger than the limit of " + std::to_string(limit) + " bytes");
    }
  }
  if (in.bad()) return invalid(what + ": read failed");
  return out;
}

Result<std::string> read_file_bounded(const std::string& path, std::size_t limit, const std::string& what) {
  if (path == "-") return read_bounded(std::cin, limit, what);
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid(what + ": cannot read " + path + " (no such file or not readable)");
  return read_bounded(in, limit, what);
}

}  // namespace blockd::agent
