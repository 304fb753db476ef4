#include "engine/grammar/stack_pool.h"

#include <algorithm>

namespace inferd::engine {
namespace {

inline size_t hash_node(int32_t return_state, int32_t parent) {
  uint64_t h = (static_cast<uint64_t>(static_cast<uint32_t>(return_state)) << 32) |
               static_cast<uint32_t>(parent);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return static_cast<size_t>(h);
}

}  // namespace

StackPool::StackPool() { rehash(256); }

void StackPool::clear() {
  nodes_.clear();
  std::fill(table_.begin(), table_.end(), -1);
}

void StackPool::rehash(size_t capacity) {
  table_.assign(capacity, -1);
  mask_ = capacity - 1;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    size_t slot = hash_node(nodes_[i].return_state, nodes_[i].parent) & mask_;
    while (table_[slot] >= 0) slot = (slot + 1) & mask_;
    table_[slot] = static_cast<int32_t>(i);
  }
}

int32_t StackPool::push(int32_t return_state, int32_t parent) {
  size_t slot = hash_node(return_state, parent) & mask_;
  while (true) {
    const int32_t id = table_[slot];
    if (id < 0) break;
    const Node& n = nodes_[static_cast<size_t>(id)];
    if (n.return_state == return_state && n.parent == parent) return id;
    slot = (slot + 1) & mask_;
  }
  const auto id = static_cast<int32_t>(nodes_.size());
  nodes_.push_back({return_state, parent});
  table_[slot] = id;
  if (nodes_.size() * 2 > table_.size()) rehash(table_.size() * 2);
  return id;
}

}  // namespace inferd::engine
