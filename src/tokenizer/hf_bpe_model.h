// HfBpeModel: the BPE "model" of a tokenizer.json. A word starts as one symbol per UTF-8
// character (its vocabulary token); a character without a token becomes its byte tokens
// "<0xAB>" when byte_fallback is set, else the unknown token (consecutive ones fused into one
// when fuse_unk is set; dropped when there is no unknown token). Symbols are then merged by the
// rank of the "merges" rules (MergeTable). With ignore_merges, a word that is itself a token is
// emitted as that token. Byte-level vocabularies need no special case: their pre-tokenizer has
// already mapped every byte to a character of the byte-level alphabet.
// Thread safety: immutable after build(); encode() is const.
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/merge_table.h"
#include "tokenizer/vocab.h"

namespace inferd::tokenizer {

class HfBpeModel {
 public:
  // `model` is the JSON object at `path` ("model"), of type BPE; `vocab` holds its vocabulary
  // (and the added tokens) and must outlive the model. Every merge must name two tokens whose
  // concatenation is a token; options this model does not implement (dropout,
  // continuing_subword_prefix, end_of_word_suffix) are errors naming their path.
  static Result<HfBpeModel> build(const Json& model, const Vocab& vocab, std::string_view path);

  // Appends the tokens of one pre-tokenized word.
  void encode(std::string_view word, std::vector<TokenId>& out) const;

  TokenId unk() const { return unk_; }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  explicit HfBpeModel(size_t num_merges) : merges_(num_merges) {}

  const Vocab* vocab_ = nullptr;
  MergeTable merges_;
  TokenId unk_ = kNoToken;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  std::array<TokenId, 256> byte_tokens_{};  // "<0xAB>" of each byte, or kNoToken
};

}  // namespace inferd::tokenizer
