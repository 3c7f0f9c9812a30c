#include "ipam/block_list.hpp"

#include <algorithm>
#include <atomic>

namespace blockd::ipam {

BlockList::const_iterator& BlockList::const_iterator::operator++() {
  if (++index_ == (*chunks_)[chunk_]->size()) {
    ++chunk_;
    index_ = 0;
  }
  return *this;
}

std::size_t BlockList::chunk_for(const std::string& key) const {
  // The first chunk whose last key is not below key; past every chunk: the last one (appending).
  auto it = std::lower_bound(chunks_.begin(), chunks_.end(), key,
                             [](const auto& chunk, const std::string& k) { return chunk->back()->key < k; });
  return std::min<std::size_t>(it - chunks_.begin(), chunks_.size() - 1);
}

namespace {
// Where key is or would go in a chunk.
template <class Chunk>
auto position(Chunk& chunk, const std::string& key) {
  return std::lower_bound(chunk.begin(), chunk.end(), key, [](const auto& e, const std::string& k) { return e->key < k; });
}
}  // namespace

std::shared_ptr<const BlockList::Entry> BlockList::find(const std::string& key) const {
  if (chunks_.empty()) return nullptr;
  const auto& chunk = *chunks_[chunk_for(key)];
  auto it = position(chunk, key);
  return it != chunk.end() && (*it)->key == key ? *it : nullptr;
}

BlockList::Chunk& BlockList::own(std::size_t i) {
  // One holder: this list alone (a list is changed by one thread, and no other list can start
  // sharing the chunk while it does), so changing it in place changes no other list.
  if (chunks_[i].use_count() != 1) {
    chunks_[i] = std::make_shared<Chunk>(*chunks_[i]);
  } else {
    // use_count is a relaxed read: order it after the last other holder's reads, which ended
    // with its (releasing) drop of the chunk.
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  return *chunks_[i];
}

void BlockList::put(std::string key, AllocationBlock block) {
  auto entry = std::make_shared<const Entry>(Entry{std::move(key), std::move(block)});
  if (chunks_.empty()) {
    chunks_.push_back(std::make_shared<Chunk>(Chunk{std::move(entry)}));
    size_ = 1;
    return;
  }
  const std::size_t i = chunk_for(entry->key);
  auto& chunk = own(i);
  auto it = position(chunk, entry->key);
  if (it != chunk.end() && (*it)->key == entry->key) {
    *it = std::move(entry);
    return;
  }
  chunk.insert(it, std::move(entry));
  ++size_;
  if (chunk.size() > kChunk) {
    // Split in halves: a change copies at most kChunk entries.
    auto upper = std::make_shared<Chunk>(chunk.begin() + static_cast<std::ptrdiff_t>(chunk.size() / 2), chunk.end());
    chunk.resize(chunk.size() / 2);
    chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(upper));
  }
}

bool BlockList::erase(const std::string& key) {
  if (chunks_.empty()) return false;
  const std::size_t i = chunk_for(key);
  {
    const auto& chunk = *chunks_[i];
    auto it = position(chunk, key);
    if (it == chunk.end() || (*it)->key != key) return false;
  }
  auto& chunk = own(i);
  chunk.erase(position(chunk, key));
  --size_;
  if (chunk.empty()) chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(i));
  return true;
}

}  // namespace blockd::ipam
