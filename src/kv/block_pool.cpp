#include "kv/block_pool.h"

#include <algorithm>

#include "base/check.h"

namespace inferd::kv {

BlockHash chain_hash(BlockHash parent, std::span<const TokenId> tokens) {
  // 64-bit multiply-xorshift mixing of each token into the running state.
  uint64_t h = parent ^ (0xD6E8FEB86659FD93ull * (tokens.size() + 1));
  for (TokenId t : tokens) {
    h ^= static_cast<uint32_t>(t) + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  return h;
}

BlockPool::BlockPool(int64_t num_blocks, int64_t block_size)
    : block_size_(block_size),
      refs_(num_blocks, 0),
      published_(num_blocks, 0),
      hash_(num_blocks, 0),
      tokens_(static_cast<size_t>(num_blocks * block_size), 0),
      prev_(num_blocks, kNone),
      next_(num_blocks, kNone) {
  free_.reserve(num_blocks);
  for (int64_t b = num_blocks - 1; b >= 0; --b) free_.push_back(static_cast<BlockId>(b));
  counts_.free = num_blocks;
}

void BlockPool::lru_unlink(BlockId b) {
  if (prev_[b] != kNone) next_[prev_[b]] = next_[b];
  else lru_head_ = next_[b];
  if (next_[b] != kNone) prev_[next_[b]] = prev_[b];
  else lru_tail_ = prev_[b];
  prev_[b] = next_[b] = kNone;
}

void BlockPool::lru_push_back(BlockId b) {
  prev_[b] = lru_tail_;
  next_[b] = kNone;
  if (lru_tail_ != kNone) next_[lru_tail_] = b;
  else lru_head_ = b;
  lru_tail_ = b;
}

void BlockPool::forget(BlockId b) {
  const auto it = by_hash_.find(hash_[b]);
  if (it != by_hash_.end() && it->second == b) by_hash_.erase(it);
  published_[b] = 0;
}

std::optional<BlockId> BlockPool::allocate() {
  BlockId b = kNone;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
    counts_.free--;
  } else if (lru_head_ != kNone) {
    b = lru_head_;
    lru_unlink(b);
    forget(b);
    counts_.cached--;
  } else {
    return std::nullopt;
  }
  refs_[b] = 1;
  counts_.used++;
  return b;
}

void BlockPool::retain(BlockId b) {
  INFERD_CHECK(refs_[b] > 0);
  refs_[b]++;
}

void BlockPool::release(BlockId b) {
  INFERD_CHECK(refs_[b] > 0);
  if (--refs_[b] > 0) return;
  counts_.used--;
  if (published_[b]) {
    lru_push_back(b);
    counts_.cached++;
  } else {
    free_.push_back(b);
    counts_.free++;
  }
}

std::optional<BlockId> BlockPool::lookup(BlockHash hash, std::span<const TokenId> tokens) {
  counts_.queries++;
  const auto it = by_hash_.find(hash);
  if (it == by_hash_.end() || static_cast<int64_t>(tokens.size()) != block_size_) return std::nullopt;
  const BlockId b = it->second;
  if (!std::equal(tokens.begin(), tokens.end(), tokens_.begin() + b * block_size_)) return std::nullopt;
  if (refs_[b] == 0) {
    lru_unlink(b);
    counts_.cached--;
    counts_.used++;
  }
  refs_[b]++;
  counts_.hits++;
  return b;
}

void BlockPool::publish(BlockId b, BlockHash hash, std::span<const TokenId> tokens) {
  INFERD_CHECK(refs_[b] > 0 && static_cast<int64_t>(tokens.size()) == block_size_);
  if (published_[b] || by_hash_.count(hash)) return;
  by_hash_.emplace(hash, b);
  published_[b] = 1;
  hash_[b] = hash;
  std::copy(tokens.begin(), tokens.end(), tokens_.begin() + b * block_size_);
}

bool BlockPool::check_invariants() const {
  int64_t used = 0, cached = 0, lru = 0;
  for (size_t b = 0; b < refs_.size(); ++b) {
    if (refs_[b] < 0) return false;
    if (refs_[b] > 0) ++used;
    else if (published_[b]) ++cached;
  }
  for (BlockId b = lru_head_; b != kNone; b = next_[b]) {
    if (refs_[b] != 0 || !published_[b]) return false;
    ++lru;
  }
  for (BlockId b : free_)
    if (refs_[b] != 0 || published_[b]) return false;
  for (const auto& [hash, b] : by_hash_)
    if (!published_[b] || hash_[b] != hash) return false;
  return used == counts_.used && cached == counts_.cached && lru == cached &&
         static_cast<int64_t>(free_.size()) == counts_.free && used + cached + counts_.free == num_blocks();
}

}  // namespace inferd::kv
