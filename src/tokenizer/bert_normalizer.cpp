#include "tokenizer/bert_normalizer.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utf16.h>

#include "tokenizer/utf8.h"

namespace inferd::tokenizer {
namespace {

bool is_whitespace(uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || u_isUWhiteSpace(UChar32(cp));
}

bool is_control(uint32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  switch (u_charType(UChar32(cp))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED: return true;
    default: return false;
  }
}

bool is_punctuation(uint32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126))
    return true;
  return (U_GET_GC_MASK(UChar32(cp)) & U_GC_P_MASK) != 0;
}

// The CJK ideograph blocks BERT isolates.
bool is_cjk(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Appends `cp` decomposed, without nonspacing marks, lowercased.
void append_folded(std::string& out, uint32_t cp, const UNormalizer2* nfd) {
  UChar decomposed[32];
  UErrorCode status = U_ZERO_ERROR;
  int32_t n =
      nfd != nullptr ? unorm2_getDecomposition(nfd, UChar32(cp), decomposed, 32, &status) : -1;
  if (U_FAILURE(status) || n < 0) {
    if (u_charType(UChar32(cp)) != U_NON_SPACING_MARK) utf8_append(out, u_tolower(UChar32(cp)));
    return;
  }
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(decomposed, i, n, c);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    utf8_append(out, u_tolower(c));
  }
}

}  // namespace

void BertNormalizer::split_words(std::string_view text, std::string& buffer,
                                 std::vector<TextSpan>& words) {
  buffer.clear();
  words.clear();
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* nfd = unorm2_getNFDInstance(&status);
  if (U_FAILURE(status)) nfd = nullptr;

  size_t word_start = 0;
  auto finish_word = [&] {
    if (buffer.size() > word_start) words.push_back({word_start, buffer.size() - word_start});
    word_start = buffer.size();
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const uint32_t cp = utf8_decode(text, pos);
    if (cp == 0 || cp == kReplacementChar || is_control(cp)) continue;
    if (is_whitespace(cp)) {
      finish_word();
      continue;
    }
    if (is_punctuation(cp) || is_cjk(cp)) {
      finish_word();
      append_folded(buffer, cp, nfd);
      finish_word();
      continue;
    }
    append_folded(buffer, cp, nfd);
  }
  finish_word();
}

}  // namespace inferd::tokenizer
