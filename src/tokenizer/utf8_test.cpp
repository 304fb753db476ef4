#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

#include "tokenizer/byte_level.h"

namespace inferd::tokenizer {
namespace {

TEST(Utf8, ValidLengthRejectsMalformedSequences) {
  EXPECT_EQ(utf8_valid_length("a", 0), 1);
  EXPECT_EQ(utf8_valid_length("\xC3\xA9", 0), 2);
  EXPECT_EQ(utf8_valid_length("\xE2\x96\x81", 0), 3);
  EXPECT_EQ(utf8_valid_length("\xF0\x9F\x99\x82", 0), 4);
  EXPECT_EQ(utf8_valid_length("\xC3", 0), 0);              // truncated
  EXPECT_EQ(utf8_valid_length("\x80", 0), 0);              // continuation byte
  EXPECT_EQ(utf8_valid_length("\xC0\x80", 0), 0);          // overlong
  EXPECT_EQ(utf8_valid_length("\xE0\x80\x80", 0), 0);      // overlong
  EXPECT_EQ(utf8_valid_length("\xED\xA0\x80", 0), 0);      // surrogate
  EXPECT_EQ(utf8_valid_length("\xF4\x90\x80\x80", 0), 0);  // above U+10FFFF
  EXPECT_EQ(utf8_valid_length("\xC3"
                              "a",
                              0),
            0);  // bad continuation
}

TEST(Utf8, DecodeAndAppendRoundTrip) {
  for (uint32_t cp : {0x0u, 0x41u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    utf8_append(s, cp);
    size_t pos = 0;
    EXPECT_EQ(utf8_decode(s, pos), cp);
    EXPECT_EQ(pos, s.size());
  }
  std::string bad;
  utf8_append(bad, 0xD800);
  EXPECT_EQ(bad, "\xEF\xBF\xBD");
  size_t pos = 0;
  EXPECT_EQ(utf8_decode("\xFF", pos), kReplacementChar);
  EXPECT_EQ(pos, 1u);
}

TEST(Utf8, IncompleteSuffix) {
  EXPECT_EQ(utf8_incomplete_suffix(""), 0u);
  EXPECT_EQ(utf8_incomplete_suffix("abc"), 0u);
  EXPECT_EQ(utf8_incomplete_suffix("a\xC3"), 1u);
  EXPECT_EQ(utf8_incomplete_suffix("a\xE2\x96"), 2u);
  EXPECT_EQ(utf8_incomplete_suffix("\xF0\x9F\x99"), 3u);
  EXPECT_EQ(utf8_incomplete_suffix("\xF0\x9F\x99\x82"), 0u);
  EXPECT_EQ(utf8_incomplete_suffix("a\xE0\x80"), 0u);  // cannot become valid
  EXPECT_EQ(utf8_incomplete_suffix("\x80\x80"), 0u);
}

TEST(Utf8, SanitizedAppendReplacesEachMalformedByte) {
  std::string out;
  utf8_append_sanitized(out, "a\xFF\xC3\xA9\xC3");
  EXPECT_EQ(out, "a\xEF\xBF\xBD\xC3\xA9\xEF\xBF\xBD");
}

TEST(ByteLevel, AlphabetIsABijectionOntoPrintableCharacters) {
  std::set<uint32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const uint32_t cp = byte_to_unicode(uint8_t(b));
    EXPECT_TRUE(seen.insert(cp).second);
    EXPECT_EQ(unicode_to_byte(cp), b);
    EXPECT_GT(cp, 0x20u);
  }
  EXPECT_EQ(byte_to_unicode(' '), 0x120u);   // "Ġ"
  EXPECT_EQ(byte_to_unicode('\n'), 0x10Au);  // "Ċ"
  EXPECT_EQ(byte_to_unicode('A'), uint32_t('A'));
  EXPECT_EQ(unicode_to_byte(0x4E00), -1);
  std::string decoded;
  byte_level_decode_append(decoded, "\xC4\xA0hi\xC4\x8A");
  EXPECT_EQ(decoded, " hi\n");
}

}  // namespace
}  // namespace inferd::tokenizer
