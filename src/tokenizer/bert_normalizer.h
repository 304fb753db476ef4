// BertNormalizer: BERT's basic tokenization (uncased): control characters and U+FFFD are
// dropped, Unicode whitespace separates words, accents are stripped (canonical decomposition,
// then nonspacing marks removed), text is lowercased, and every punctuation character (Unicode P*
// or ASCII punctuation) and every CJK ideograph becomes a word of its own.
// Character data comes from ICU. Thread safety: stateless; safe to call concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pre_tokenizer.h"

namespace inferd::tokenizer {

class BertNormalizer {
 public:
  // Writes the normalized words of `text` into `buffer` and their spans (into `buffer`) into
  // `words`, replacing both.
  static void split_words(std::string_view text, std::string& buffer, std::vector<TextSpan>& words);
};

}  // namespace inferd::tokenizer
