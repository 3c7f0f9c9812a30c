// Adj-RIB-Out and Adj-RIB-In of one peer (RFC 4271 §3.2).
// Adj-RIB-Out holds what the peer has been sent, as a sorted vector of (prefix, attribute set
// id): compact for a million prefixes, and a new desired state diffs against it in one merge.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "bgp/codec/attributes.hpp"

namespace blockd::bgp {

// Distinct attribute sets sent to one peer; routes refer to them by id.
class AttributeSets {
 public:
  std::uint32_t intern(const PathAttributes& attrs);
  const PathAttributes& get(std::uint32_t id) const { return sets_[id]; }
  std::size_t size() const { return sets_.size(); }

 private:
  std::vector<PathAttributes> sets_;
};

struct OutRoute {
  Prefix prefix;
  std::uint32_t attributes = 0;  // id in the peer's AttributeSets
  friend bool operator==(const OutRoute&, const OutRoute&) = default;
};

// What must be sent to move a peer from what it has to what it should have.
struct RibDiff {
  std::vector<OutRoute> announce;  // new prefixes, or changed attributes
  std::vector<Prefix> withdraw;
  bool empty() const { return announce.empty() && withdraw.empty(); }
};

// Sorts by prefix and keeps the last entry of any prefix given twice.
void normalize(std::vector<OutRoute>& routes);

class AdjRibOut {
 public:
  // desired must be normalized.
  RibDiff diff(const std::vector<OutRoute>& desired) const;
  void apply(const RibDiff& diff);
  void clear() { routes_.clear(); }
  std::size_t size() const { return routes_.size(); }
  const std::vector<OutRoute>& routes() const { return routes_; }
  // Everything as announcements: a new session's first sync.
  RibDiff full() const { return {routes_, {}}; }

 private:
  std::vector<OutRoute> routes_;
};

struct ReceivedAttributes {
  PathAttributes attributes;
  std::uint32_t peer_as = 0;
};

// Routes a peer sent, with graceful-restart staleness (RFC 4724 §4.2).
class AdjRibIn {
 public:
  struct Entry {
    std::shared_ptr<const PathAttributes> attributes;
    bool stale = false;
  };
  // Applies an accepted or treat-as-withdraw UPDATE; true if anything changed.
  bool apply(const ParsedUpdate& update);
  void mark_stale();
  // Removes stale routes (all families, or one); returns how many.
  std::size_t sweep_stale();
  std::size_t sweep_stale(ipam::Family family);
  void clear() { routes_.clear(); }
  std::size_t size() const { return routes_.size(); }
  const std::map<Prefix, Entry>& routes() const { return routes_; }

 private:
  std::map<Prefix, Entry> routes_;
};

}  // namespace blockd::bgp
