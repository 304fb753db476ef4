// BpeEncoder: byte-level BPE ("gpt2" vocabularies). The text is split by the pre-tokenizer; each
// piece starts as one symbol per byte (the byte-level character's token) and adjacent symbols are
// merged by merge rank (lowest first, leftmost on ties) while a merge applies. O(n log n) per
// piece; nothing is quadratic in the input length.
// Thread safety: encode() is const and uses only local scratch.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
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
  struct Merge {
    int32_t rank;
    TokenId result;
  };
  static uint64_t pair_key(TokenId left, TokenId right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
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
  std::unordered_map<uint64_t, Merge> merges_;
};

}  // namespace inferd::tokenizer
