// HfPipeline: the encoding and decoding steps of a tokenizer.json: normalizer, pre-tokenizer,
// BPE model and decoder (added tokens and the post-processor are applied by Tokenizer).
// Thread safety: immutable after construction; every method is const.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/hf_bpe_model.h"
#include "tokenizer/hf_decoder.h"
#include "tokenizer/hf_normalizer.h"
#include "tokenizer/hf_pre_tokenizer.h"

namespace inferd::tokenizer {

class HfPipeline {
 public:
  HfPipeline(HfNormalizer normalizer, HfPreTokenizer pre_tokenizer, HfBpeModel model,
             HfDecoder decoder)
      : normalizer_(std::move(normalizer)),
        pre_tokenizer_(std::move(pre_tokenizer)),
        model_(std::move(model)),
        decoder_(std::move(decoder)) {}

  // Appends the tokens of one run of text that contains no added token. `at_text_start`: the
  // run begins the whole input.
  void encode(std::string_view text, bool at_text_start, std::vector<TokenId>& out) const;

  const HfDecoder& decoder() const { return decoder_; }

 private:
  HfNormalizer normalizer_;
  HfPreTokenizer pre_tokenizer_;
  HfBpeModel model_;
  HfDecoder decoder_;
};

}  // namespace inferd::tokenizer
