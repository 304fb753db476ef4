// PreTokenizer: splits text into the pieces that byte-level BPE segments independently, by the
// regular expressions of a PreTokenizerSpec (compiled once with PCRE2, UTF + Unicode properties,
// JIT when available). Malformed UTF-8 in the input is allowed: it never matches a character
// class and stays in the text between matches, so every input byte ends up in some piece.
// Thread safety: split() is const and allocates only its own scratch; safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/pre_tokenizer_table.h"

namespace inferd::tokenizer {

// A piece of the input: [offset, offset + length).
struct TextSpan {
  size_t offset;
  size_t length;
};

class PreTokenizer {
 public:
  static Result<PreTokenizer> compile(const PreTokenizerSpec& spec);

  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;
  ~PreTokenizer();

  // Replaces `pieces` with the pieces of `text`, in order; they cover `text` exactly and none is
  // empty. `scratch` is reused storage.
  void split(std::string_view text, std::vector<TextSpan>& pieces,
             std::vector<TextSpan>& scratch) const;

 private:
  struct Regex;
  PreTokenizer() = default;
  // Splits one piece by one expression, appending the results to `out`.
  static void split_piece(const Regex& re, std::string_view text, TextSpan piece,
                          std::vector<TextSpan>& out, void* match_data);

  std::vector<Regex> regexes_;
};

}  // namespace inferd::tokenizer
