#include "kv/sequence_blocks.h"

#include "base/check.h"

namespace inferd::kv {

int64_t SequenceBlocks::adopt_cached_prefix(BlockPool& pool, std::span<const TokenId> tokens, int64_t max_tokens) {
  INFERD_CHECK(table_.empty() && tokens_.empty());
  const int64_t bs = pool.block_size();
  const int64_t limit = std::min<int64_t>(max_tokens, static_cast<int64_t>(tokens.size())) / bs;
  for (int64_t i = 0; i < limit; ++i) {
    const auto block_tokens = tokens.subspan(i * bs, bs);
    const BlockHash h = chain_hash(last_full_hash_, block_tokens);
    const auto b = pool.lookup(h, block_tokens);
    if (!b) break;
    table_.push_back(*b);
    tokens_.insert(tokens_.end(), block_tokens.begin(), block_tokens.end());
    last_full_hash_ = h;
    ++num_full_;
  }
  return num_tokens();
}

int64_t SequenceBlocks::blocks_needed(const BlockPool& pool, int64_t positions) const {
  const int64_t blocks = (positions + pool.block_size() - 1) / pool.block_size();
  return std::max<int64_t>(0, blocks - static_cast<int64_t>(table_.size()));
}

bool SequenceBlocks::reserve(BlockPool& pool, int64_t positions) {
  for (int64_t n = blocks_needed(pool, positions); n > 0; --n) {
    const auto b = pool.allocate();
    if (!b) return false;
    table_.push_back(*b);
  }
  return true;
}

void SequenceBlocks::append(BlockPool& pool, std::span<const TokenId> tokens) {
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  const int64_t bs = pool.block_size();
  INFERD_CHECK(num_tokens() <= static_cast<int64_t>(table_.size()) * bs);
  for (; (num_full_ + 1) * bs <= num_tokens(); ++num_full_) {
    const auto block_tokens = std::span<const TokenId>(tokens_).subspan(num_full_ * bs, bs);
    last_full_hash_ = chain_hash(last_full_hash_, block_tokens);
    pool.publish(table_[num_full_], last_full_hash_, block_tokens);
  }
}

void SequenceBlocks::release(BlockPool& pool) {
  // Last block first: the pool hands freed blocks out again last in, first out, so the next
  // sequence gets them in ascending order (runs of consecutive ids, which attention reads as one
  // stream), and evicts cached blocks least recently released first, so a prefix loses its
  // tail before its head (a block is only found after every block before it).
  for (auto it = table_.rbegin(); it != table_.rend(); ++it) pool.release(*it);
  table_.clear();
  tokens_.clear();
  last_full_hash_ = kRootHash;
  num_full_ = 0;
}

}  // namespace inferd::kv
