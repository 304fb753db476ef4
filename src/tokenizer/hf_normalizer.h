// HfNormalizer: the "normalizer" of a tokenizer.json, applied to every run of text between added
// tokens before pre-tokenization. Step types (one table row each, see hf_normalizer.cpp): NFC,
// NFD, NFKC, NFKD, Lowercase, Strip, Replace, Prepend, Sequence. A null normalizer leaves text
// unchanged. Text is treated as UTF-8; malformed bytes become U+FFFD in the Unicode forms.
// Thread safety: immutable after build(); apply() is const.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "tokenizer/hf_json.h"

namespace inferd::tokenizer {

class HfNormalizer {
 public:
  using Step = std::function<void(std::string&)>;

  // `spec` is the JSON value at `path` (null allowed). An unknown type is an error naming path.
  static Result<HfNormalizer> build(const Json& spec, std::string_view path);

  void apply(std::string& text) const {
    if (step_) step_(text);
  }
  bool empty() const { return !step_; }

 private:
  Step step_;
};

// Builds the step for one normalizer object (used by Sequence and build()).
Result<HfNormalizer::Step> build_normalizer_step(const Json& spec, std::string_view path);

}  // namespace inferd::tokenizer
