#include "ipam/keys.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace blockd::ipam::keys {

std::string block_id(const Prefix& block) {
  const auto b = block.address().bytes();
  char buf[64];
  std::string out;
  if (block.is_v4()) {
    std::snprintf(buf, sizeof buf, "%03u.%03u.%03u.%03u", b[0], b[1], b[2], b[3]);
    out = buf;
  } else {
    for (std::size_t i = 0; i < 16; i += 2) {
      std::snprintf(buf, sizeof buf, "%s%02x%02x", i ? ":" : "", b[i], b[i + 1]);
      out += buf;
    }
  }
  return out + "-" + std::to_string(block.length());
}

Result<Prefix> block_from_id(const std::string& id) {
  const auto dash = id.rfind('-');
  if (dash == std::string::npos) return invalid("\"" + id + "\" is not a block key");
  std::string addr = id.substr(0, dash);
  if (addr.find(':') == std::string::npos) {
    // Drop the zero padding: "192.168.000.064" -> "192.168.0.64".
    std::string plain;
    std::size_t start = 0;
    while (start <= addr.size()) {
      auto dot = addr.find('.', start);
      if (dot == std::string::npos) dot = addr.size();
      std::string octet = addr.substr(start, dot - start);
      octet.erase(0, std::min(octet.find_first_not_of('0'), octet.size() - 1));
      plain += (plain.empty() ? "" : ".") + octet;
      start = dot + 1;
    }
    addr = plain;
  }
  return Prefix::parse(addr + "/" + id.substr(dash + 1));
}

std::string handle(const std::string& handle_id) {
  // Handles come from CNI (network name + container id); keep them one path element.
  std::string out = kHandles;
  for (unsigned char c : handle_id) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string blocks_within(const Prefix& pool) {
  const std::string a = block_id(Prefix::host(pool.first()));
  const std::string b = block_id(Prefix::host(pool.last()));
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return kBlocks + a.substr(0, n);
}

std::string resource_folder(const std::string& kind) {
  std::string lower;
  for (char c : kind) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return kResources + lower + "s/";
}

}  // namespace blockd::ipam::keys
