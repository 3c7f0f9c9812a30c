#include "ipam/block.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <set>

namespace blockd::ipam {

using nlohmann::json;

AllocationBlock::AllocationBlock(Prefix cidr, std::string affinity)
    : cidr_(cidr), affinity_(std::move(affinity)) {
  for (std::uint32_t i = 0; i < capacity(); ++i) unallocated_.push_back(i);
}

namespace {

// A JSON string. Plain printable ASCII (every handle and node name in practice) is copied as
// is; anything else goes through nlohmann, which escapes it and rejects invalid UTF-8.
void append_quoted(std::string& out, const std::string& s) {
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
  });
  if (!plain) {
    out += json(s).dump();
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

void append_number(std::string& out, std::uint32_t n) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;
  out.append(buf, end);
}

}  // namespace

std::string AllocationBlock::to_json() const {
  // Written by hand (read back with nlohmann, which checks everything): this runs on every
  // allocation, and building a json tree first costs ten times more.
  std::string out;
  out.reserve(96 + allocations_.size() * 48 + unallocated_.size() * 4);
  out += "{\"cidr\":\"";
  out += cidr_.str();
  out += "\",\"affinity\":";
  append_quoted(out, affinity_.empty() ? std::string() : "host:" + affinity_);
  out += ",\"allocations\":{";
  bool first = true;
  for (const auto& [ordinal, a] : allocations_) {
    out += first ? "\"" : ",\"";
    append_number(out, ordinal);
    out += "\":{\"handle\":";
    append_quoted(out, a.handle);
    out += ",\"node\":";
    append_quoted(out, a.node);
    out += '}';
    first = false;
  }
  out += "},\"unallocated\":[";
  first = true;
  for (auto ordinal : unallocated_) {
    if (!first) out += ',';
    append_number(out, ordinal);
    first = false;
  }
  out += "]}";
  return out;
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

std::optional<Address> AllocationBlock::assign(const Allocation& a, const ReservedAddresses& reserved) {
  auto it = std::find_if(unallocated_.begin(), unallocated_.end(),
                         [&](std::uint32_t ordinal) { return !reserved.contains(cidr_.at(ordinal)); });
  if (it == unallocated_.end()) return std::nullopt;
  const std::uint32_t ordinal = *it;
  unallocated_.erase(it);
  allocations_[ordinal] = a;
  return cidr_.at(ordinal);
}

bool AllocationBlock::has_room(const ReservedAddresses& reserved) const {
  return std::any_of(unallocated_.begin(), unallocated_.end(),
                     [&](std::uint32_t ordinal) { return !reserved.contains(cidr_.at(ordinal)); });
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

std::vector<Address> AllocationBlock::addresses_of(const std::string& handle) const {
  std::vector<Address> out;
  for (const auto& [ordinal, a] : allocations_) {
    if (a.handle == handle) out.push_back(cidr_.at(ordinal));
  }
  return out;
}

std::vector<ReleasedAddress> AllocationBlock::release_handle(const std::string& handle) {
  std::vector<ReleasedAddress> out;
  for (const auto& address : addresses_of(handle)) out.push_back({address, *release(address)});
  return out;
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
  // By hand for the same reason as the block; nlohmann's dump sorts keys, and "blocks" <
  // "handle", prefixes in string order: kept, so the bytes do not change.
  std::map<std::string, std::uint32_t> by_text;
  for (const auto& [p, n] : blocks) by_text[p.str()] = n;
  std::string out = "{\"blocks\":{";
  bool first = true;
  for (const auto& [text, n] : by_text) {
    if (!first) out += ',';
    append_quoted(out, text);
    out += ':';
    append_number(out, n);
    first = false;
  }
  out += "},\"handle\":";
  append_quoted(out, handle);
  out += '}';
  return out;
}

void HandleRecord::remove(const Prefix& block) {
  auto it = blocks.find(block);
  if (it != blocks.end() && --it->second == 0) blocks.erase(it);
}

std::uint32_t HandleRecord::total() const {
  std::uint32_t n = 0;
  for (const auto& [_, c] : blocks) n += c;
  return n;
}

}  // namespace blockd::ipam
