#include "tokenizer/special_token_matcher.h"

#include <gtest/gtest.h>

namespace inferd::tokenizer {
namespace {

Vocab make_vocab() {
  auto v = Vocab::build({"a", "<|x|>", "<|x|>y", "<|u|>", "<s>", "<"}, {},
                        {TokenType::kNormal, TokenType::kControl, TokenType::kControl,
                         TokenType::kUserDefined, TokenType::kControl, TokenType::kNormal});
  EXPECT_TRUE(v.ok());
  return std::move(v).value();
}

std::string show(std::string_view text, const std::vector<Segment>& segs) {
  std::string out;
  for (const Segment& s : segs) {
    if (s.token != kNoToken) {
      out.append("[").append(std::to_string(s.token)).append("]");
    } else {
      out.append("(").append(text.substr(s.offset, s.length)).append(")");
    }
  }
  return out;
}

TEST(SpecialTokenMatcher, LeftmostLongestAndParseSpecial) {
  Vocab vocab = make_vocab();
  SpecialTokenMatcher m(vocab, {}, {});
  std::vector<Segment> segs;
  const std::string text = "a<|x|>yb<|u|><s><|x|";
  m.partition(text, true, segs);
  EXPECT_EQ(show(text, segs), "(a)[2](b)[3][4](<|x|)");
  m.partition(text, false, segs);  // only user-defined tokens
  EXPECT_EQ(show(text, segs), "(a<|x|>yb)[3](<s><|x|)");
  m.partition("", true, segs);
  EXPECT_TRUE(segs.empty());
}

TEST(SpecialTokenMatcher, StripFlagsSwallowWhitespace) {
  Vocab vocab = make_vocab();
  std::vector<uint8_t> lstrip(6, 0), rstrip(6, 0);
  rstrip[1] = 1;
  lstrip[3] = 1;
  SpecialTokenMatcher m(vocab, lstrip, rstrip);
  std::vector<Segment> segs;
  const std::string text = "a <|x|>  \n b  <|u|> c";
  m.partition(text, true, segs);
  EXPECT_EQ(show(text, segs), "(a )[1](b)[3]( c)");
}

}  // namespace
}  // namespace inferd::tokenizer
