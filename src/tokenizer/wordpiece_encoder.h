// WordPieceEncoder: BERT WordPiece as stored in GGUF: each word (from BertNormalizer) is prefixed
// with U+2581 ("▁", marking a word start; continuation pieces carry no prefix) and split greedily
// into the longest vocabulary tokens from left to right. A word that cannot be covered entirely
// becomes the unknown token. O(n * longest token) per word.
// Thread safety: encode() is const and uses only local scratch.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace inferd::tokenizer {

class WordPieceEncoder {
 public:
  // `vocab` must outlive the encoder. `unk` may be kNoToken (uncoverable words are then dropped).
  WordPieceEncoder(const Vocab& vocab, TokenId unk) : vocab_(&vocab), unk_(unk) {}

  // Appends the tokens of `text`.
  void encode(std::string_view text, std::vector<TokenId>& out) const;

 private:
  const Vocab* vocab_;
  TokenId unk_;
};

}  // namespace inferd::tokenizer
