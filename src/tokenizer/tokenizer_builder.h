// TokenizerBuilder: turns GGUF tokenizer metadata into a Tokenizer (validation, the model
// family's defaults, metadata overrides, special and end-of-generation tokens). Internal to the
// tokenizer layer; callers use Tokenizer::from_gguf().
#pragma once

#include <memory>

#include "base/status.h"
#include "format/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace inferd::tokenizer {

class TokenizerBuilder {
 public:
  static Result<std::unique_ptr<Tokenizer>> build(const format::GgufFile& file);
};

}  // namespace inferd::tokenizer
