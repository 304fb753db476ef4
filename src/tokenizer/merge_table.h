// MergeTable: the ranked merge rules of a BPE vocabulary ((left, right) -> result) and the merge
// loop that applies them: adjacent symbols are merged lowest rank first, leftmost on ties, while
// a rule applies. O(n log n) in the number of symbols. Shared by the byte-level GGUF encoder and
// the tokenizer.json BPE model.
// Thread safety: immutable after the add() calls; apply() is const and keeps its working
// storage per thread.
#pragma once

#include <cstdint>
#include <vector>

#include "tokenizer/hash_mix.h"
#include "tokenizer/token_types.h"

namespace inferd::tokenizer {

class MergeTable {
 public:
  // Sizes the table for `num_rules` rules; call once before add().
  explicit MergeTable(size_t num_rules = 0);

  // Adds the rule (left, right) -> result. A repeated pair keeps its first rank.
  // REQUIRES: left, right and result are valid ids; fewer rules than the size given.
  void add(TokenId left, TokenId right, int32_t rank, TokenId result);

  // Merges adjacent symbols of `symbols` in place until no rule applies. kNoToken symbols (bytes
  // without a token) never merge.
  void apply(std::vector<TokenId>& symbols) const;

  size_t size() const { return num_rules_; }

 private:
  struct Slot {
    uint64_t key;  // kEmptyKey: empty
    int32_t rank;
    TokenId result;
  };
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};  // ids are non-negative: never a pair
  static uint64_t pair_key(TokenId left, TokenId right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  // The index of the slot holding `key`, or of the empty slot where it would go.
  size_t find_slot(uint64_t key) const {
    for (size_t i = hash_mix64(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == key || slots_[i].key == kEmptyKey) return i;
    }
  }

  std::vector<Slot> slots_;  // open addressing, at most half full
  size_t mask_ = 0;
  size_t num_rules_ = 0;
};

}  // namespace inferd::tokenizer
