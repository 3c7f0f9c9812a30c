#include "bgp/update_packer.hpp"

#include <algorithm>
#include <map>

namespace blockd::bgp {

namespace {

constexpr std::size_t kUpdateFixed = kHeaderSize + 2 + 2;  // header, two length fields
constexpr std::size_t kMpReachFixed = 4 + 2 + 1 + 1 + 1;   // attribute header (extended), AFI, SAFI, NH length, reserved
constexpr std::size_t kMpUnreachFixed = 4 + 2 + 1;

// Splits prefixes into runs whose encoded size stays within budget octets.
template <class F>
void chunk(const std::vector<Prefix>& prefixes, std::size_t budget, F&& emit) {
  std::size_t begin = 0;
  std::size_t used = 0;
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    const std::size_t n = prefix_wire_size(prefixes[i]);
    if (used + n > budget && i > begin) {
      emit(std::vector<Prefix>(prefixes.begin() + static_cast<std::ptrdiff_t>(begin), prefixes.begin() + static_cast<std::ptrdiff_t>(i)));
      begin = i;
      used = 0;
    }
    used += n;
  }
  if (begin < prefixes.size()) emit(std::vector<Prefix>(prefixes.begin() + static_cast<std::ptrdiff_t>(begin), prefixes.end()));
}

}  // namespace

std::vector<Bytes> pack_updates(const RibDiff& diff, const AttributeSets& sets, const PackOptions& options) {
  std::vector<Bytes> out;
  const PathAttributes none;
  const std::size_t max = options.max_message_size;

  std::vector<Prefix> w4, w6;
  for (const auto& p : diff.withdraw) (p.is_v4() ? w4 : w6).push_back(p);
  chunk(w4, max - kUpdateFixed, [&](std::vector<Prefix> c) { out.push_back(build_update(none, {}, c, options.four_octet_as)); });
  chunk(w6, max - kUpdateFixed - kMpUnreachFixed,
        [&](std::vector<Prefix> c) { out.push_back(build_update(none, {}, c, options.four_octet_as)); });

  // Group announcements by attribute set, then family; order within a group stays sorted.
  std::map<std::uint32_t, std::pair<std::vector<Prefix>, std::vector<Prefix>>> groups;
  for (const auto& r : diff.announce) {
    auto& g = groups[r.attributes];
    (r.prefix.is_v4() ? g.first : g.second).push_back(r.prefix);
  }
  Bytes scratch;
  for (const auto& [id, g] : groups) {
    const PathAttributes& attrs = sets.get(id);
    scratch.clear();
    encode_attributes(attrs, options.four_octet_as, scratch);
    const std::size_t attr_size = scratch.size();
    chunk(g.first, max - kUpdateFixed - attr_size,
          [&](std::vector<Prefix> c) { out.push_back(build_update(attrs, c, {}, options.four_octet_as)); });
    const std::size_t nh = 16 + (attrs.mp_next_hop_link_local ? 16 : 0);
    PathAttributes without_nh = attrs;
    without_nh.next_hop.reset();
    scratch.clear();
    encode_attributes(without_nh, options.four_octet_as, scratch);
    chunk(g.second, max - kUpdateFixed - scratch.size() - kMpReachFixed - nh,
          [&](std::vector<Prefix> c) { out.push_back(build_update(attrs, c, {}, options.four_octet_as)); });
  }
  return out;
}

}  // namespace blockd::bgp
