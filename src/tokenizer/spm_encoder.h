// SpmEncoder: SentencePiece-style BPE ("llama" vocabularies). Spaces are replaced by U+2581
// ("▁"), then adjacent pieces are merged greedily by the vocabulary score of their concatenation
// (highest first, leftmost on ties); characters no token covers fall back to byte tokens
// "<0xAB>". O(n log n) in the input length.
// Thread safety: encode() is const and uses only local scratch.
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace inferd::tokenizer {

class SpmEncoder {
 public:
  // `vocab` must outlive the encoder. `unk` may be kNoToken.
  SpmEncoder(const Vocab& vocab, TokenId unk);

  // Appends the tokens of `text`, first prepending a space when `space_prefix`.
  void encode(std::string_view text, bool space_prefix, std::vector<TokenId>& out) const;

  // The token for raw byte `b` ("<0xAB>", else the one-byte text, else unk, else kNoToken).
  TokenId byte_token(uint8_t b) const { return byte_tokens_[b]; }

 private:
  // A vocabulary token that segmentation may produce from text (not control, unknown, byte or
  // unused), or kNoToken.
  TokenId find_piece(std::string_view text) const;

  const Vocab* vocab_;
  std::array<TokenId, 256> byte_tokens_{};
};

}  // namespace inferd::tokenizer
