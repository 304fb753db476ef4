// HfRegex: a pattern of a tokenizer.json step ({"String": literal} or {"Regex": expression}),
// compiled once with PCRE2 (UTF + Unicode properties, JIT when available). Matching accepts any
// bytes: malformed UTF-8 never matches a character class.
// Thread safety: immutable after compile(); find_all() is const and safe to call concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/pre_tokenizer.h"

namespace inferd::tokenizer {

class HfRegex {
 public:
  // `literal`: `pattern` is matched as plain text.
  static Result<HfRegex> compile(std::string_view pattern, bool literal);

  HfRegex(HfRegex&&) noexcept;
  HfRegex& operator=(HfRegex&&) noexcept;
  ~HfRegex();

  // The non-empty, non-overlapping matches of `text`, leftmost first.
  std::vector<TextSpan> find_all(std::string_view text) const;

  // `text` with every match replaced by `replacement`.
  std::string replace_all(std::string_view text, std::string_view replacement) const;

 private:
  struct Code;
  HfRegex() = default;
  std::unique_ptr<Code> code_;
  std::string literal_;  // set when the pattern is plain text (matched without PCRE2)
  bool is_literal_ = false;
};

}  // namespace inferd::tokenizer
