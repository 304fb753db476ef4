// BpeEncoder: byte-level BPE ("gpt2" vocabularies). The text is split by the pre-tokenizer; each
// piece starts as one symbol per byte (the byte-level character's token) and adjacent symbols are
// merged by merge rank (lowest first, leftmost on ties) while a merge applies. O(n log n) per
// piece; nothing is quadratic in the input length.
// Thread safety: encode() is const; its working storage is per thread (thread_local).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/hash_mix.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocab.h"

namespace inferd::tokenizer {

class BpeEncoder {
 public:
  // Validates every merge ("left right": both sides and their concatenation must be tokens).
  // `vocab` must outlive the encoder. `unk` (may be kNoToken) stands for bytes without a token.
  static Result<BpeEncoder> build(const Vocab& vocab, const std::vector<std::string>& merges,
                                  const PreTokenizerSpec& spec, TokenId unk);

  // Appends the tokens of `text`.
  void encode(std::string_view text, std::vector<TokenId>& out) const;

 private:
  // Open addressing over (left, right) token pairs: at most half full.
  struct MergeSlot {
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
  size_t merge_slot(uint64_t key) const {
    for (size_t i = hash_mix64(key) & merge_mask_;; i = (i + 1) & merge_mask_) {
      if (merges_[i].key == key || merges_[i].key == kEmptyKey) return i;
    }
  }
  struct Scratch;
  explicit BpeEncoder(PreTokenizer pre) : pre_(std::move(pre)) {}
  // Appends the tokens of one pre-tokenized piece.
  void encode_piece(std::string_view piece, std::vector<TokenId>& out, Scratch& scratch) const;

  const Vocab* vocab_ = nullptr;
  PreTokenizer pre_;
  bool ignore_merges_ = false;
  TokenId unk_ = kNoToken;
  std::array<TokenId, 256> byte_tokens_{};  // token of each byte's byte-level character
  std::vector<MergeSlot> merges_;
  size_t merge_mask_ = 0;
};

}  // namespace inferd::tokenizer
