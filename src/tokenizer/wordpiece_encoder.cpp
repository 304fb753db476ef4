#include "tokenizer/wordpiece_encoder.h"

#include <algorithm>
#include <string>

#include "tokenizer/bert_normalizer.h"
#include "tokenizer/utf8.h"

namespace inferd::tokenizer {
namespace {

constexpr std::string_view kWordStart = "\xE2\x96\x81";  // U+2581

}  // namespace

void WordPieceEncoder::encode(std::string_view text, std::vector<TokenId>& out) const {
  std::string normalized;
  std::vector<TextSpan> words;
  BertNormalizer::split_words(text, normalized, words);
  std::string word;
  const size_t max_len = vocab_->max_token_bytes();
  for (const TextSpan& span : words) {
    word.assign(kWordStart);
    word.append(normalized, span.offset, span.length);
    const size_t first_token = out.size();
    bool covered = true;
    for (size_t pos = 0; pos < word.size();) {
      TokenId found = kNoToken;
      size_t found_len = 0;
      // Longest candidate first; candidates end on character boundaries.
      for (size_t len = std::min(max_len, word.size() - pos); len > 0; --len) {
        const size_t end = pos + len;
        if (end < word.size() && (static_cast<uint8_t>(word[end]) & 0xC0) == 0x80) continue;
        const TokenId id = vocab_->find(std::string_view(word).substr(pos, len));
        if (id == kNoToken) continue;
        const TokenType t = vocab_->type(id);
        if (t != TokenType::kNormal && t != TokenType::kUserDefined && t != TokenType::kUndefined)
          continue;
        found = id;
        found_len = len;
        break;
      }
      if (found == kNoToken) {
        covered = false;
        break;
      }
      out.push_back(found);
      pos += found_len;
    }
    if (!covered) {
      out.resize(first_token);
      if (unk_ != kNoToken) out.push_back(unk_);
    }
  }
}

}  // namespace inferd::tokenizer
