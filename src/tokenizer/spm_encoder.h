// SpmEncoder: SentencePiece-style BPE ("llama" vocabularies). Spaces are replaced by U+2581
// ("▁"), then adjacent pieces are merged greedily by the vocabulary score of their concatenation
// (highest first, leftmost on ties); characters no token covers fall back to byte tokens
// "<0xAB>". O(n log n) in the input length. When no token has "▁" after another character (true
// of SentencePiece vocabularies that split by whitespace), no merge can cross the start of a
// word, so each word is segmented on its own: the same result, with small working sets.
// Thread safety: encode() is const; its working storage is per thread (thread_local).
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
  struct Scratch;
  // A vocabulary token that segmentation may produce from text (not control, unknown, byte or
  // unused), or kNoToken.
  TokenId find_piece(std::string_view text) const;
  // Segments escaped text (spaces already "▁") that merges cannot cross out of.
  void encode_chunk(std::string_view text, std::vector<TokenId>& out, Scratch& scratch) const;

  const Vocab* vocab_;
  std::array<TokenId, 256> byte_tokens_{};
  bool split_words_ = false;
};

}  // namespace inferd::tokenizer
