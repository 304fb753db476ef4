// SequenceBlocks: one sequence's KV blocks: its block table (model::KvCache::set_table) and the
// tokens whose keys and values the blocks hold. Full blocks are published to the pool's prefix
// cache as soon as they are written, so a later request with the same prefix (a system prompt,
// the previous turns of a chat) reuses them.
//
// Not thread-safe: used by the engine loop that owns the pool.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kv/block_pool.h"

namespace inferd::kv {

class SequenceBlocks {
 public:
  SequenceBlocks() = default;
  SequenceBlocks(SequenceBlocks&&) noexcept = default;
  SequenceBlocks& operator=(SequenceBlocks&&) noexcept = default;
  // The owner calls release() before destroying a sequence that holds blocks (the pool's
  // accounting shows a leak otherwise).

  // Takes the cached blocks of the longest cached prefix of `tokens`, whole blocks only and at
  // most `max_tokens` tokens. REQUIRES: the sequence is empty. Returns the tokens covered.
  int64_t adopt_cached_prefix(BlockPool& pool, std::span<const TokenId> tokens, int64_t max_tokens);
  // Grows the table to hold `positions` positions; false (with the table possibly grown part
  // way) when the pool has no block left.
  bool reserve(BlockPool& pool, int64_t positions);
  // Blocks still needed to hold `positions` positions.
  int64_t blocks_needed(const BlockPool& pool, int64_t positions) const;
  // Records that the next tokens of the sequence have been written; publishes blocks that
  // became full. REQUIRES: reserve() covered them.
  void append(BlockPool& pool, std::span<const TokenId> tokens);
  // Gives every block back to the pool and empties the sequence.
  void release(BlockPool& pool);

  std::span<const int32_t> table() const { return table_; }
  int64_t num_tokens() const { return static_cast<int64_t>(tokens_.size()); }

 private:
  std::vector<int32_t> table_;
  std::vector<TokenId> tokens_;
  BlockHash last_full_hash_ = kRootHash;  // hash of the last full block
  int64_t num_full_ = 0;                  // full blocks hashed so far
};

}  // namespace inferd::kv
