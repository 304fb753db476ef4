#include "chat/output_parser_utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "chat/jinja/unicode.h"

namespace inferd::chat {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

std::string sanitize(std::string_view text) {
  Utf8Sanitizer s;
  std::string out;
  s.append(text, &out);
  s.finish(&out);
  return out;
}

TEST(Utf8Sanitizer, KeepsWellFormedText) {
  const std::string text = "plain, é, ☀️, 𝄞, \x7f, and NUL \0 end";
  EXPECT_EQ(sanitize(text), text);
}

TEST(Utf8Sanitizer, ReplacesMaximalSubparts) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"\x80", kFffd},
      {"a\xFF"
       "b",
       "a" + kFffd + "b"},
      {"\xC0\xAF", kFffd + kFffd},              // overlong lead bytes never start a char
      {"\xE0\x80\x80", kFffd + kFffd + kFffd},  // E0 needs A0..BF next
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},  // surrogates
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},  // above U+10FFFF
      {"\xE2\x82"
       "A",
       kFffd + "A"},            // truncated in the middle: one U+FFFD
      {"\xF0\x9F\x98", kFffd},  // truncated at the end
      {"\xE2\x82\xAC\xE2", "\xE2\x82\xAC" + kFffd},
  };
  for (const Case& c : cases) EXPECT_EQ(sanitize(c.in), c.out);
}

TEST(Utf8Sanitizer, SplitsDoNotMatter) {
  std::mt19937_64 rng(11);
  const std::string alphabet[] = {"a",    "\xC3", "\xA9", "\xE2", "\x82", "\xAC", "\xF0", "\x9F",
                                  "\x98", "\x80", "\xFF", "\xED", "\xA0", "\xF4", "\x90"};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text;
    for (size_t n = rng() % 24; n > 0; --n) text += alphabet[rng() % std::size(alphabet)];
    const std::string whole = sanitize(text);
    EXPECT_TRUE(jinja::unicode::is_valid_utf8(whole));
    Utf8Sanitizer s;
    std::string split;
    for (size_t pos = 0; pos < text.size();) {
      const size_t n = 1 + rng() % 4;
      s.append(std::string_view(text).substr(pos, n), &split);
      EXPECT_TRUE(jinja::unicode::is_valid_utf8(split));
      pos += n;
    }
    s.finish(&split);
    EXPECT_EQ(split, whole);
  }
}

}  // namespace
}  // namespace inferd::chat
