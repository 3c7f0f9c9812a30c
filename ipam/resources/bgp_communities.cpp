#include "ipam/resources/bgp_communities.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace blockd::ipam {
namespace {

// RFC 1997's well-known communities.
constexpr std::array<std::pair<std::string_view, std::uint32_t>, 3> kWellKnown = {{
    {"no-export", 0xFFFFFF01},
    {"no-advertise", 0xFFFFFF02},
    {"no-export-subconfed", 0xFFFFFF03},
}};

template <typename T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

Status parse_community(std::string_view text, CommunitySet& out) {
  for (const auto& [name, value] : kWellKnown) {
    if (text == name) {
      out.standard.push_back(value);
      return {};
    }
  }
  std::vector<std::uint64_t> parts;
  std::size_t start = 0;
  while (parts.size() < 4) {
    const std::size_t colon = text.find(':', start);
    const std::string_view part = text.substr(start, colon == std::string_view::npos ? colon : colon - start);
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (part.empty() || ec != std::errc{} || ptr != part.data() + part.size() || n > 0xffffffffULL) {
      return invalid("\"" + std::string(text) +
                     "\" is not a community (aa:nn, aa:nn:mm or one of no-export, no-advertise, "
                     "no-export-subconfed)");
    }
    parts.push_back(n);
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() == 2) {
    if (parts[0] > 0xffff || parts[1] > 0xffff) {
      return invalid("\"" + std::string(text) + "\": a standard community's parts are 0 to 65535 each");
    }
    out.standard.push_back(static_cast<std::uint32_t>(parts[0] << 16 | parts[1]));
    return {};
  }
  if (parts.size() == 3) {
    out.large.push_back({static_cast<std::uint32_t>(parts[0]), static_cast<std::uint32_t>(parts[1]),
                         static_cast<std::uint32_t>(parts[2])});
    return {};
  }
  return invalid("\"" + std::string(text) + "\" is not a community (aa:nn or aa:nn:mm)");
}

Result<std::vector<TaggedPrefix>> resolve_prefix_advertisements(const BGPConfiguration& config) {
  std::vector<TaggedPrefix> out;
  for (std::size_t i = 0; i < config.prefix_advertisements.size(); ++i) {
    const auto& pa = config.prefix_advertisements[i];
    const std::string at = "spec.prefixAdvertisements[" + std::to_string(i) + "].communities";
    TaggedPrefix t{pa.cidr, {}};
    for (std::size_t j = 0; j < pa.communities.size(); ++j) {
      const std::string& c = pa.communities[j];
      auto named = std::find_if(config.communities.begin(), config.communities.end(),
                                [&](const NamedCommunity& n) { return n.name == c; });
      const std::string& text = named != config.communities.end() ? named->value : c;
      if (auto s = parse_community(text, t.communities); !s) {
        std::string why = s.error().message;
        if (named == config.communities.end() && c.find(':') == std::string::npos) {
          why = "\"" + c + "\" is neither a name in spec.communities nor a community value (aa:nn, aa:nn:mm, "
                "no-export, no-advertise, no-export-subconfed)";
        }
        return invalid(at + "[" + std::to_string(j) + "]: " + why);
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

CommunitySet communities_for(const std::vector<TaggedPrefix>& tagged, const Prefix& prefix) {
  CommunitySet out;
  for (const auto& t : tagged) {
    if (t.cidr.is_v4() != prefix.is_v4() || !t.cidr.contains(prefix)) continue;
    out.standard.insert(out.standard.end(), t.communities.standard.begin(), t.communities.standard.end());
    out.large.insert(out.large.end(), t.communities.large.begin(), t.communities.large.end());
  }
  sort_unique(out.standard);
  sort_unique(out.large);
  return out;
}

}  // namespace blockd::ipam
