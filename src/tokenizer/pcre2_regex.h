// Compilation of the tokenizer layer's regular expressions with PCRE2: UTF-8 patterns with
// Unicode properties (\p{L}, \p{N}), subjects that may hold malformed UTF-8 (it never matches a
// character class), JIT when available.
#pragma once

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include <string_view>

#include "base/status.h"

namespace inferd::tokenizer {

// The compiled pattern (owned by the caller: pcre2_code_free), or an error naming the pattern,
// the offset and PCRE2's message.
Result<pcre2_code*> compile_pcre2(std::string_view pattern);

}  // namespace inferd::tokenizer
