// HfTokenizerBuilder: turns a tokenizer.json (and the special token texts of HfTokenizerConfig)
// into a Tokenizer. Internal to the tokenizer layer; callers use Tokenizer::from_hf_dir() or
// Tokenizer::from_hf_json().
//
// Added tokens: special ones become control tokens (matched in text only when special tokens
// are parsed), the others user-defined tokens (always matched); lstrip/rstrip swallow the
// whitespace beside them. All are matched in the raw text before the normalizer runs, whatever
// their "normalized" flag says.
#pragma once

#include <memory>
#include <string_view>

#include "base/status.h"
#include "tokenizer/hf_tokenizer_config.h"
#include "tokenizer/tokenizer.h"

namespace inferd::tokenizer {

class HfTokenizerBuilder {
 public:
  static Result<std::unique_ptr<Tokenizer>> build(std::string_view tokenizer_json,
                                                  const HfTokenizerConfig& config);
};

}  // namespace inferd::tokenizer
