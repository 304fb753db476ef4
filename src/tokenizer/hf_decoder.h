// HfDecoder: the "decoder" of a tokenizer.json, turned into a rule per token (the bytes a token's
// text stands for) plus one text-level rule (drop the leading space of the text), which is what
// Tokenizer::decode() and IncrementalDecoder apply. Step types (one table row each, see
// hf_decoder.cpp): ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, Sequence. Steps
// before Fuse act on each token; after Fuse only Replace, ByteLevel and a Strip of one leading
// space are accepted (they act the same on the joined text). A null decoder keeps token texts.
// ByteFallback yields raw bytes: invalid UTF-8 is left to the caller (IncrementalDecoder
// replaces it with U+FFFD).
// Thread safety: immutable after build(); piece() is const.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/hf_json.h"

namespace inferd::tokenizer {

class HfDecoder {
 public:
  using Step = std::function<void(std::string&)>;

  // `spec` is the JSON value at `path` (null allowed). An unknown type is an error naming path.
  static Result<HfDecoder> build(const Json& spec, std::string_view path);

  // The bytes that a token with text `token_text` decodes to.
  std::string piece(std::string_view token_text) const;
  // Decoding drops one leading space of the text.
  bool strips_leading_space() const { return strips_leading_space_; }

  // Build state, shared by the step builders of hf_decoder.cpp.
  struct Builder {
    std::vector<Step> steps;
    bool fused = false;
    bool strips_leading_space = false;
  };

 private:
  std::vector<Step> steps_;
  bool strips_leading_space_ = false;
};

}  // namespace inferd::tokenizer
