#include "bgp/rib.hpp"

#include <algorithm>

namespace blockd::bgp {

std::uint32_t AttributeSets::intern(const PathAttributes& attrs) {
  // Few distinct sets per peer (one per community combination): a scan from the newest is fast.
  for (std::size_t i = sets_.size(); i-- > 0;) {
    if (sets_[i] == attrs) return static_cast<std::uint32_t>(i);
  }
  sets_.push_back(attrs);
  return static_cast<std::uint32_t>(sets_.size() - 1);
}

void normalize(std::vector<OutRoute>& routes) {
  std::stable_sort(routes.begin(), routes.end(), [](const OutRoute& a, const OutRoute& b) { return a.prefix < b.prefix; });
  // Keep the last of equal prefixes.
  std::vector<OutRoute> out;
  out.reserve(routes.size());
  for (const auto& r : routes) {
    if (!out.empty() && out.back().prefix == r.prefix) out.back() = r;
    else out.push_back(r);
  }
  routes.swap(out);
}

RibDiff AdjRibOut::diff(const std::vector<OutRoute>& desired) const {
  RibDiff d;
  auto a = routes_.begin();
  auto b = desired.begin();
  while (a != routes_.end() || b != desired.end()) {
    if (b == desired.end() || (a != routes_.end() && a->prefix < b->prefix)) {
      d.withdraw.push_back(a->prefix);
      ++a;
    } else if (a == routes_.end() || b->prefix < a->prefix) {
      d.announce.push_back(*b);
      ++b;
    } else {
      if (a->attributes != b->attributes) d.announce.push_back(*b);
      ++a;
      ++b;
    }
  }
  return d;
}

void AdjRibOut::apply(const RibDiff& diff) {
  std::vector<OutRoute> next;
  next.reserve(routes_.size() + diff.announce.size());
  auto a = routes_.begin();
  auto w = diff.withdraw.begin();
  auto n = diff.announce.begin();
  // All three are sorted by prefix: one merge.
  while (a != routes_.end() || n != diff.announce.end()) {
    if (n == diff.announce.end() || (a != routes_.end() && a->prefix < n->prefix)) {
      while (w != diff.withdraw.end() && *w < a->prefix) ++w;
      if (w == diff.withdraw.end() || !(*w == a->prefix)) next.push_back(*a);
      ++a;
    } else {
      if (a != routes_.end() && a->prefix == n->prefix) ++a;
      next.push_back(*n);
      ++n;
    }
  }
  routes_.swap(next);
}

bool AdjRibIn::apply(const ParsedUpdate& update) {
  if (update.action == UpdateAction::SessionReset) return false;
  bool changed = false;
  for (const auto& p : update.withdrawn) changed |= routes_.erase(p) > 0;
  if (!update.announced.empty()) {
    auto attrs = std::make_shared<const PathAttributes>(update.attributes);
    for (const auto& p : update.announced) {
      routes_[p] = Entry{attrs, false};
      changed = true;
    }
  }
  return changed;
}

void AdjRibIn::mark_stale() {
  for (auto& [p, e] : routes_) e.stale = true;
}

std::size_t AdjRibIn::sweep_stale() {
  return std::erase_if(routes_, [](const auto& kv) { return kv.second.stale; });
}

std::size_t AdjRibIn::sweep_stale(ipam::Family family) {
  return std::erase_if(routes_, [&](const auto& kv) { return kv.second.stale && kv.first.family() == family; });
}

}  // namespace blockd::bgp
