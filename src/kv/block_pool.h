// BlockPool: the KV blocks of one model (model/kv_cache.h holds their memory) and the prefix
// cache over them.
//
// Every block is in exactly one state:
//   free    - unused, content meaningless;
//   used    - referenced by one or more sequences (refcount > 0);
//   cached  - unreferenced but holding a published full block of tokens, findable by lookup()
//             and evictable, least recently released first.
// so free + cached + used == num_blocks at all times (counts()).
//
// Prefix caching: a full block is identified by chain_hash(parent block's hash, its tokens), so
// equal hashes mean equal whole prefixes; lookup() also compares the block's tokens, so a hash
// collision can never hand out wrong keys and values. Shared blocks are never written: a
// sequence writes only positions past its cached prefix, which lie in its own blocks.
//
// Not thread-safe: owned by one engine loop.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "inferd/token_id.h"

namespace inferd::kv {

using BlockId = int32_t;
using BlockHash = uint64_t;

// The hash of the empty prefix (the parent of a sequence's first block).
inline constexpr BlockHash kRootHash = 0x9E3779B97F4A7C15ull;
// The hash of a full block holding `tokens` after the prefix whose last block hashed `parent`.
BlockHash chain_hash(BlockHash parent, std::span<const TokenId> tokens);

class BlockPool {
 public:
  BlockPool(int64_t num_blocks, int64_t block_size);

  int64_t num_blocks() const { return static_cast<int64_t>(refs_.size()); }
  int64_t block_size() const { return block_size_; }

  // A block for new content (refcount 1): a free one, else the least recently released cached
  // one (forgotten by the prefix cache); nothing when every block is used.
  std::optional<BlockId> allocate();
  void retain(BlockId block);
  // Drops one reference; at zero the block becomes cached (when published) or free.
  void release(BlockId block);

  // The cached or used block published under `hash` with exactly `tokens`, retained; nothing
  // when there is none. Counts a query and, when found, a hit.
  std::optional<BlockId> lookup(BlockHash hash, std::span<const TokenId> tokens);
  // Makes the full block `block` (REQUIRES: used, tokens.size() == block_size) findable under
  // `hash`. No-op when another block already holds that hash or the block is published.
  void publish(BlockId block, BlockHash hash, std::span<const TokenId> tokens);

  struct Counts {
    int64_t free = 0, cached = 0, used = 0;
    int64_t queries = 0, hits = 0;  // lookups since creation
  };
  Counts counts() const { return counts_; }
  // Blocks allocate() can hand out now.
  int64_t num_available() const { return counts_.free + counts_.cached; }
  // Recounts every state from scratch and compares with counts() (for tests).
  bool check_invariants() const;

 private:
  static constexpr BlockId kNone = -1;
  void lru_unlink(BlockId b);
  void lru_push_back(BlockId b);
  void forget(BlockId b);  // removes a published block from the prefix cache

  int64_t block_size_;
  std::vector<int32_t> refs_;
  std::vector<uint8_t> published_;
  std::vector<BlockHash> hash_;
  std::vector<TokenId> tokens_;       // [block][block_size]: content of published blocks
  std::vector<BlockId> free_;         // stack of free blocks
  std::vector<BlockId> prev_, next_;  // LRU list of cached blocks
  BlockId lru_head_ = kNone, lru_tail_ = kNone;
  std::unordered_map<BlockHash, BlockId> by_hash_;
  Counts counts_;
};

}  // namespace inferd::kv
