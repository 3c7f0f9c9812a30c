// The allocation blocks of a cluster listing, in key order, held so that a copy shares every
// block with its original and a change copies only what it touches. The agent's view is rebuilt
// on every block change, and with a thousand nodes every allocation changes one block in every
// node's view (agent/cluster_view.hpp): copying the blocks themselves made each allocation cost
// nodes x blocks copies (tests/bench/ipam/etcd_nodes_sim.cpp).
// Each block is decoded once into an immutable entry; entries sit in chunks of at most kChunk,
// each chunk immutable once shared. Copying a list copies size/kChunk chunk pointers; a put or
// an erase copies the one chunk it changes (or changes it in place when nothing shares it).
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "ipam/block.hpp"

namespace blockd::ipam {

class BlockList {
 public:
  struct Entry {
    std::string key;  // the block's Datastore key (keys::block)
    AllocationBlock block;
  };

 private:
  using Chunk = std::vector<std::shared_ptr<const Entry>>;
  using Chunks = std::vector<std::shared_ptr<Chunk>>;

 public:
  // Visits the blocks in key order.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = AllocationBlock;
    using difference_type = std::ptrdiff_t;
    using pointer = const AllocationBlock*;
    using reference = const AllocationBlock&;
    const_iterator() = default;
    reference operator*() const { return (*(*chunks_)[chunk_])[index_]->block; }
    pointer operator->() const { return &**this; }
    const_iterator& operator++();
    const_iterator operator++(int) {
      auto before = *this;
      ++*this;
      return before;
    }
    bool operator==(const const_iterator& other) const { return chunk_ == other.chunk_ && index_ == other.index_; }

   private:
    friend class BlockList;
    const_iterator(const Chunks* chunks, std::size_t chunk) : chunks_(chunks), chunk_(chunk) {}
    const Chunks* chunks_ = nullptr;
    std::size_t chunk_ = 0, index_ = 0;
  };

  BlockList() = default;
  // Copies share every chunk; the first change to a shared chunk copies it (copy on write).
  BlockList(const BlockList&) = default;
  BlockList& operator=(const BlockList&) = default;
  BlockList(BlockList&&) noexcept = default;
  BlockList& operator=(BlockList&&) noexcept = default;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const_iterator begin() const { return {&chunks_, 0}; }
  const_iterator end() const { return {&chunks_, chunks_.size()}; }

  // The entry under key, or nullptr.
  std::shared_ptr<const Entry> find(const std::string& key) const;
  // Adds the block under key, or replaces the one there.
  void put(std::string key, AllocationBlock block);
  // Removes the block under key; false when there was none.
  bool erase(const std::string& key);
  // Calls visit(block) for each block this list holds and `older` does not hold as the same
  // entry: what was put since, when this list is `older` changed. Costs the chunks that differ,
  // not the whole list.
  template <class Visit>
  void for_each_put_since(const BlockList& older, Visit&& visit) const;

  static constexpr std::size_t kChunk = 64;

 private:
  // The chunk where key is or would go (chunks_ not empty).
  std::size_t chunk_for(const std::string& key) const;
  // chunks_[i], unshared, to change in place.
  Chunk& own(std::size_t i);

  Chunks chunks_;  // never an empty chunk; chunk i's keys all below chunk i+1's
  std::size_t size_ = 0;
};

template <class Visit>
void BlockList::for_each_put_since(const BlockList& older, Visit&& visit) const {
  std::unordered_set<const Chunk*> shared;
  for (const auto& chunk : older.chunks_) shared.insert(chunk.get());
  for (const auto& chunk : chunks_) {
    if (shared.count(chunk.get())) continue;
    for (const auto& entry : *chunk) {
      if (older.find(entry->key) != entry) visit(entry->block);
    }
  }
}

}  // namespace blockd::ipam
