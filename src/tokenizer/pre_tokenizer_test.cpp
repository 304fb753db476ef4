#include "tokenizer/pre_tokenizer.h"

#include <gtest/gtest.h>

#include "tokenizer/pre_tokenizer_table.h"

namespace inferd::tokenizer {
namespace {

std::vector<std::string> split(const std::string& pre, std::string_view text) {
  const PreTokenizerSpec* spec = find_pre_tokenizer(pre);
  EXPECT_NE(spec, nullptr) << pre;
  if (spec == nullptr) return {};
  auto pt = PreTokenizer::compile(*spec);
  EXPECT_TRUE(pt.ok()) << pt.status().to_string();
  std::vector<TextSpan> pieces, scratch;
  pt->split(text, pieces, scratch);
  std::vector<std::string> out;
  size_t covered = 0;
  for (const TextSpan& p : pieces) {
    EXPECT_EQ(p.offset, covered);
    EXPECT_GT(p.length, 0u);
    covered += p.length;
    out.emplace_back(text.substr(p.offset, p.length));
  }
  EXPECT_EQ(covered, text.size());
  return out;
}

using Pieces = std::vector<std::string>;

TEST(PreTokenizerTable, EveryEntryCompilesAndCoversItsInput) {
  const std::string text = "Hello, y'all! 1234567 naïve 我想 \t\n\n  x\xFF\xC3 ½ camelCase";
  for (const PreTokenizerSpec& spec : pre_tokenizer_table()) {
    std::string first(spec.names.substr(0, spec.names.find('|')));
    split(first, text);  // checks coverage
  }
  EXPECT_EQ(find_pre_tokenizer(""), find_pre_tokenizer("default"));
  EXPECT_EQ(find_pre_tokenizer("llama3"), find_pre_tokenizer("llama-bpe"));
  EXPECT_EQ(find_pre_tokenizer("nope"), nullptr);
}

TEST(PreTokenizer, Gpt2) {
  EXPECT_EQ(split("gpt-2", "Hello world's 123  x!!"),
            (Pieces{"Hello", " world", "'s", " 123", " ", " x", "!!"}));
}

TEST(PreTokenizer, Llama3GroupsDigitsByThree) {
  EXPECT_EQ(split("llama-bpe", "1234567 HELLO'S\n\nok"),
            (Pieces{"123", "456", "7", " HELLO", "'S", "\n\n", "ok"}));
}

TEST(PreTokenizer, Qwen2SplitsSingleDigits) {
  EXPECT_EQ(split("qwen2", "a 123"), (Pieces{"a", " ", "1", "2", "3"}));
}

TEST(PreTokenizer, StarcoderIsolatesDigitsFirst) {
  EXPECT_EQ(split("starcoder", "x12 ab"), (Pieces{"x", "1", "2", " ab"}));
}

TEST(PreTokenizer, TekkenSplitsCaseRuns) {
  EXPECT_EQ(split("tekken", "camelCase HTTPServer"), (Pieces{"camel", "Case", " HTTPServer"}));
}

TEST(PreTokenizer, DeepseekLlmUsesItsLetterClassesAndIsolatesCjk) {
  EXPECT_EQ(split("deepseek-llm", "Hello 我想 ok"), (Pieces{"Hello", " ", "我想", " ok"}));
}

TEST(PreTokenizer, MalformedUtf8StaysInSomePiece) {
  EXPECT_EQ(split("gpt-2", "a\xFF\xFE b"), (Pieces{"a", "\xFF\xFE", " b"}));
}

TEST(PreTokenizer, LongRunsAreLinear) {
  std::string letters(1 << 20, 'a');
  EXPECT_EQ(split("llama3", letters).size(), 1u);
  std::string spaces(1 << 20, ' ');
  EXPECT_EQ(split("gpt-2", spaces).size(), 1u);
}

}  // namespace
}  // namespace inferd::tokenizer
