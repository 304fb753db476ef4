// BpeEncoder: byte-level BPE ("gpt2" vocabularies). The text is split by the pre-tokenizer; each
// piece starts as one symbol per byte (the byte-level character's token) and adjacent symbols are
// merged by merge rank (MergeTable). O(n log n) per piece; nothing is quadratic in the input
// length.
// Thread safety: encode() is const; its working storage is per thread (thread_local).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/merge_table.h"
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
  struct Scratch;
  BpeEncoder(PreTokenizer pre, size_t num_merges) : pre_(std::move(pre)), merges_(num_merges) {}
  // Appends the tokens of one pre-tokenized piece.
  void encode_piece(std::string_view piece, std::vector<TokenId>& out, Scratch& scratch) const;

  const Vocab* vocab_ = nullptr;
  PreTokenizer pre_;
  bool ignore_merges_ = false;
  TokenId unk_ = kNoToken;
  std::array<TokenId, 256> byte_tokens_{};  // token of each byte's byte-level character
  MergeTable merges_;
};

}  // namespace inferd::tokenizer
