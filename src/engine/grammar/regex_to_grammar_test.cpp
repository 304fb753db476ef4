#include "engine/grammar/regex_to_grammar.h"

#include <random>
#include <regex>

#include <gtest/gtest.h>

#include "engine/grammar/grammar_testing.h"

namespace inferd::engine {
namespace {

std::shared_ptr<const CompiledGrammar> compile_pattern(std::string_view pattern) {
  Grammar g;
  auto e = regex_to_expr(g, pattern, emit_plain_chars);
  EXPECT_TRUE(e.ok()) << pattern << ": " << e.status().to_string();
  if (!e.ok()) return nullptr;
  g.set_root(g.add_rule("root", *e));
  auto c = CompiledGrammar::compile(g, testing::byte_vocab());
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? *c : nullptr;
}

std::string regex_error(std::string_view pattern) {
  Grammar g;
  auto e = regex_to_expr(g, pattern, emit_plain_chars);
  EXPECT_FALSE(e.ok()) << pattern;
  return e.ok() ? std::string() : e.status().message();
}

// The grammar accepts exactly the strings std::regex_search finds the pattern in.
TEST(RegexToGrammar, AgreesWithStdRegexOnRandomStrings) {
  const std::vector<std::string> patterns = {
      "abc", "^abc", "abc$", "^abc$", "^a*b+c?$", "^(ab|cd)+$", "^a{2,3}$", "^a{2}b{0,}$", "^[a-c]+-[^a-c]$",
      "^[^x]*x$", "^(?:a|b(c|d)){1,2}$", "^\\d+\\.\\d{2}$", "^\\w\\W\\s\\S$", "a.c", "^[-a]+$", "^[a\\-z]$",
      "^x*?y+?$", "^(a|)b$", "a|b|c", "b{2}|c", "^\\x41\\u0042[\\t]$", "^[\\d.]+$", "^\\(\\)\\[\\]\\{\\}$",
      "^[.]$"};
  const std::string alphabet = "abcdxyq-.0129_ \t(){}[]AB,";
  std::mt19937 rng(11);
  for (const std::string& pattern : patterns) {
    SCOPED_TRACE(pattern);
    auto g = compile_pattern(pattern);
    ASSERT_TRUE(g);
    const std::regex re(pattern, std::regex::ECMAScript);
    for (int i = 0; i < 300; ++i) {
      std::string s;
      const int len = static_cast<int>(rng() % 7);
      for (int k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
      if (i < 40 && pattern.size() < 12) {
        // Include strings built from the pattern's own characters.
        s.clear();
        for (int k = 0; k < len; ++k) s += pattern[rng() % pattern.size()];
      }
      EXPECT_EQ(testing::matches_bytewise(g, s), std::regex_search(s, re)) << "string \"" << s << "\"";
    }
  }
}

TEST(RegexToGrammar, DotExcludesLineTerminators) {
  auto g = compile_pattern("^.$");
  EXPECT_TRUE(testing::matches_bytewise(g, "a"));
  EXPECT_TRUE(testing::matches_bytewise(g, "\xC3\xA9"));
  EXPECT_FALSE(testing::matches_bytewise(g, "\n"));
  EXPECT_FALSE(testing::matches_bytewise(g, "\r"));
  EXPECT_FALSE(testing::matches_bytewise(g, "\xE2\x80\xA8"));
}

TEST(RegexToGrammar, SurrogatePairEscapesCombine) {
  auto g = compile_pattern("^\\uD83D\\uDE00\\u{1F601}$");
  EXPECT_TRUE(testing::matches_bytewise(g, "\xF0\x9F\x98\x80\xF0\x9F\x98\x81"));
}

TEST(RegexToGrammar, Errors) {
  EXPECT_EQ(regex_error("(?=a)"), "pattern \"(?=a)\": lookaround is not supported at offset 0");
  EXPECT_EQ(regex_error("a(?<!b)"), "pattern \"a(?<!b)\": lookaround is not supported at offset 1");
  EXPECT_EQ(regex_error("(a)\\1"), "pattern \"(a)\\1\": back-references are not supported at offset 3");
  EXPECT_EQ(regex_error("\\bx"), "pattern \"\\bx\": word boundaries (\\b) are not supported at offset 0");
  EXPECT_EQ(regex_error("\\p{L}"), "pattern \"\\p{L}\": Unicode property escapes are not supported at offset 0");
  EXPECT_EQ(regex_error("a^b"), "pattern \"a^b\": '^' is only supported at the start of the pattern at offset 1");
  EXPECT_EQ(regex_error("a$b"), "pattern \"a$b\": '$' is only supported at the end of the pattern at offset 1");
  EXPECT_EQ(regex_error("^a|b"), "pattern \"^a|b\": anchors with top-level alternation are not supported; group "
                                 "the alternatives, as in ^(a|b)$ at offset 0");
  EXPECT_EQ(regex_error("(ab"), "pattern \"(ab\": unterminated group at offset 0");
  EXPECT_EQ(regex_error("ab)"), "pattern \"ab)\": unexpected ')' at offset 2");
  EXPECT_EQ(regex_error("*a"), "pattern \"*a\": nothing to repeat at offset 0");
  EXPECT_EQ(regex_error("a**"), "pattern \"a**\": nothing to repeat at offset 2");
  EXPECT_EQ(regex_error("a{3,2}"), "pattern \"a{3,2}\": repetition maximum below its minimum at offset 1");
  EXPECT_EQ(regex_error("a{1,5000}"), "pattern \"a{1,5000}\": repetition bound above 1000 at offset 1");
  EXPECT_EQ(regex_error("[z-a]"), "pattern \"[z-a]\": range out of order at offset 2");
  EXPECT_EQ(regex_error("[abc"), "pattern \"[abc\": unterminated character class at offset 0");
  EXPECT_EQ(regex_error("[]"), "pattern \"[]\": character class matches nothing at offset 0");
  EXPECT_EQ(regex_error("\\q"), "pattern \"\\q\": unknown escape '\\q' at offset 0");
  EXPECT_EQ(regex_error("\\uD800"), "pattern \"\\uD800\": escape U+D800 is not a Unicode scalar value at offset 0");
  EXPECT_EQ(regex_error("[\\d-z]"), "pattern \"[\\d-z]\": class escape used as a range end at offset 3");
  std::string deep(300, '(');
  deep += std::string(300, ')');
  EXPECT_NE(regex_error(deep).find("groups nested too deeply"), std::string::npos);
}

}  // namespace
}  // namespace inferd::engine
