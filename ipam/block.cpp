#include "ipam/block.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace blockd::ipam {

using nlohmann::json;

AllocationBlock::AllocationBlock(Prefix cidr, std::string affinity)
    : cidr_(cidr), affinity_(std::move(affinity)) {
  for (std::uint32_t i = 0; i < capacity(); ++i) unallocated_.push_back(i);
}

std::string AllocationBlock::to_json() const {
  json allocs = json::object();
  for (const auto& [ordinal, a] : allocations_) {
    allocs[std::to_string(ordinal)] = {{"handle", a.handle}, {"node", a.node}};
  }
  return json{{"cidr", cidr_.str()},
              {"affinity", affinity_.empty() ? std::string() : "host:" + affinity_},
              {"allocations", allocs},
              {"unallocated", unallocated_}}
      .dump();
}

Result<AllocationBlock> AllocationBlock::from_json(const std::string& text) {
  // The store is shared with other processes and versions: check everything, trust nothing.
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return internal("block record is not JSON");
  try {
    auto cidr = Prefix::parse(j.at("cidr").get<std::string>());
    if (!cidr) return internal("block record: " + cidr.error().message);
    AllocationBlock b;
    b.cidr_ = *cidr;
    if (cidr->size() > (uint128{1} << 16)) return internal("block record " + cidr->str() + ": block too large");
    std::string affinity = j.value("affinity", "");
    b.affinity_ = affinity.starts_with("host:") ? affinity.substr(5) : affinity;
    std::set<std::uint32_t> seen;
    for (const auto& [k, v] : j.at("allocations").items()) {
      const auto ordinal = static_cast<std::uint32_t>(std::stoul(k));
      if (ordinal >= b.capacity() || !seen.insert(ordinal).second) {
        return internal("block record " + cidr->str() + ": bad allocation ordinal " + k);
      }
      b.allocations_[ordinal] = {v.at("handle").get<std::string>(), v.value("node", "")};
    }
    for (const auto& v : j.at("unallocated")) {
      const auto ordinal = v.get<std::uint32_t>();
      if (ordinal >= b.capacity() || !seen.insert(ordinal).second) {
        return internal("block record " + cidr->str() + ": bad free ordinal " + std::to_string(ordinal));
      }
      b.unallocated_.push_back(ordinal);
    }
    if (seen.size() != b.capacity()) {
      return internal("block record " + cidr->str() + ": " + std::to_string(b.capacity() - seen.size()) +
                      " addresses are neither allocated nor free");
    }
    return b;
  } catch (const std::exception& e) {
    return internal(std::string("block record: ") + e.what());
  }
}

std::optional<Address> AllocationBlock::assign(const Allocation& a) {
  if (unallocated_.empty()) return std::nullopt;
  const std::uint32_t ordinal = unallocated_.front();
  unallocated_.pop_front();
  allocations_[ordinal] = a;
  return cidr_.at(ordinal);
}

std::optional<Allocation> AllocationBlock::release(const Address& a) {
  if (!cidr_.contains(a)) return std::nullopt;
  const auto ordinal = static_cast<std::uint32_t>(cidr_.ordinal(a));
  auto it = allocations_.find(ordinal);
  if (it == allocations_.end()) return std::nullopt;
  Allocation released = std::move(it->second);
  allocations_.erase(it);
  unallocated_.push_back(ordinal);
  return released;
}

std::optional<Allocation> AllocationBlock::allocation_of(const Address& a) const {
  if (!cidr_.contains(a)) return std::nullopt;
  auto it = allocations_.find(static_cast<std::uint32_t>(cidr_.ordinal(a)));
  if (it == allocations_.end()) return std::nullopt;
  return it->second;
}

std::size_t AllocationBlock::count_for_handle(const std::string& handle) const {
  std::size_t n = 0;
  for (const auto& [_, a] : allocations_) n += a.handle == handle;
  return n;
}

Result<HandleRecord> HandleRecord::from_json(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return internal("handle record is not JSON");
  try {
    HandleRecord h;
    h.handle = j.at("handle").get<std::string>();
    for (const auto& [k, v] : j.at("blocks").items()) {
      auto p = Prefix::parse(k);
      if (!p) return internal("handle record " + h.handle + ": " + p.error().message);
      h.blocks[*p] = v.get<std::uint32_t>();
    }
    return h;
  } catch (const std::exception& e) {
    return internal(std::string("handle record: ") + e.what());
  }
}

std::string HandleRecord::to_json() const {
  json blocks_json = json::object();
  for (const auto& [p, n] : blocks) blocks_json[p.str()] = n;
  return json{{"handle", handle}, {"blocks", blocks_json}}.dump();
}

std::uint32_t HandleRecord::total() const {
  std::uint32_t n = 0;
  for (const auto& [_, c] : blocks) n += c;
  return n;
}

}  // namespace blockd::ipam
