// Unit tests of the tokenizer.json step tables: normalizers, pre-tokenizers and decoders, each
// built from the JSON a tokenizer.json holds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/hf_decoder.h"
#include "tokenizer/hf_normalizer.h"
#include "tokenizer/hf_pre_tokenizer.h"

namespace inferd::tokenizer {
namespace {

std::string normalize(const char* spec, std::string text) {
  auto n = HfNormalizer::build(Json::parse(spec), "normalizer");
  EXPECT_TRUE(n.ok()) << n.status().to_string();
  if (n.ok()) n->apply(text);
  return text;
}

std::vector<std::string> pre_tokenize(const char* spec, std::string_view text,
                                      bool at_text_start = true) {
  auto p = HfPreTokenizer::build(Json::parse(spec), "pre_tokenizer");
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  std::vector<std::string> words;
  if (p.ok()) p->split(text, at_text_start, words);
  return words;
}

using Words = std::vector<std::string>;

TEST(HfNormalizer, UnicodeFormsAndCase) {
  EXPECT_EQ(normalize(R"({"type":"NFC"})", "cafe\xCC\x81"), "caf\xC3\xA9");
  EXPECT_EQ(normalize(R"({"type":"NFD"})", "caf\xC3\xA9"), "cafe\xCC\x81");
  EXPECT_EQ(normalize(R"({"type":"NFKC"})", "\xEF\xAC\x81"), "fi");  // U+FB01
  EXPECT_EQ(normalize(R"({"type":"Lowercase"})", "HeLLo \xC3\x89"), "hello \xC3\xA9");
}

TEST(HfNormalizer, ReplacePrependStripSequence) {
  EXPECT_EQ(normalize(R"({"type":"Replace","pattern":{"String":" "},"content":"▁"})", "a b  c"),
            "a▁b▁▁c");
  EXPECT_EQ(
      normalize(R"({"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "})", "a  b   c"),
      "a b c");
  EXPECT_EQ(normalize(R"({"type":"Prepend","prepend":"▁"})", "hi"), "▁hi");
  EXPECT_EQ(normalize(R"({"type":"Prepend","prepend":"▁"})", ""), "");
  EXPECT_EQ(normalize(R"({"type":"Strip","strip_left":true,"strip_right":true})", " \t x y \n"),
            "x y");
  EXPECT_EQ(normalize(R"({"type":"Strip","strip_left":false,"strip_right":true})", "  x  "), "  x");
  EXPECT_EQ(normalize(R"({"type":"Sequence","normalizers":[
              {"type":"Prepend","prepend":"▁"},
              {"type":"Replace","pattern":{"String":" "},"content":"▁"}]})",
                      "a b"),
            "▁a▁b");
}

TEST(HfNormalizer, UnknownTypeNamesThePath) {
  auto n = HfNormalizer::build(
      Json::parse(R"({"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Precompiled"}]})"),
      "normalizer");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().to_string().find("normalizer.normalizers[1].type \"Precompiled\""),
            std::string::npos)
      << n.status().to_string();
}

TEST(HfPreTokenizer, SplitBehaviors) {
  const char* kTemplate =
      R"({"type":"Split","pattern":{"String":"-"},"behavior":"%s","invert":false})";
  auto run = [&](const char* behavior) {
    char spec[256];
    std::snprintf(spec, sizeof(spec), kTemplate, behavior);
    return pre_tokenize(spec, "a-b--c-");
  };
  EXPECT_EQ(run("Removed"), (Words{"a", "b", "c"}));
  EXPECT_EQ(run("Isolated"), (Words{"a", "-", "b", "-", "-", "c", "-"}));
  EXPECT_EQ(run("MergedWithPrevious"), (Words{"a-", "b-", "-", "c-"}));
  EXPECT_EQ(run("MergedWithNext"), (Words{"a", "-b", "-", "-c", "-"}));
  EXPECT_EQ(run("Contiguous"), (Words{"a", "-", "b", "--", "c", "-"}));
}

TEST(HfPreTokenizer, SplitRegexInvertAndUnknownBehavior) {
  EXPECT_EQ(
      pre_tokenize(
          R"({"type":"Split","pattern":{"Regex":"\\p{L}+"},"behavior":"Removed","invert":true})",
          "ab, cd!"),
      (Words{"ab", "cd"}));
  auto p = HfPreTokenizer::build(
      Json::parse(R"({"type":"Split","pattern":{"String":"-"},"behavior":"Sideways"})"), "pre");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().to_string().find("pre.behavior"), std::string::npos);
}

TEST(HfPreTokenizer, ByteLevelMapsBytesAndAddsPrefixSpace) {
  EXPECT_EQ(pre_tokenize(R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})",
                         "Hello world\n"),
            (Words{"Hello", "Ġworld", "Ċ"}));
  EXPECT_EQ(
      pre_tokenize(R"({"type":"ByteLevel","add_prefix_space":true,"use_regex":false})", "hi there"),
      (Words{"ĠhiĠthere"}));
  // Bytes of a multi-byte character each map to their own character.
  EXPECT_EQ(pre_tokenize(R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":false})",
                         "\xC3\xA9"),
            (Words{"Ã©"}));
}

TEST(HfPreTokenizer, Digits) {
  EXPECT_EQ(pre_tokenize(R"({"type":"Digits","individual_digits":true})", "a123b"),
            (Words{"a", "1", "2", "3", "b"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"Digits","individual_digits":false})", "a123b"),
            (Words{"a", "123", "b"}));
}

TEST(HfPreTokenizer, MetaspacePrependSchemes) {
  const char* always =
      R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true})";
  EXPECT_EQ(pre_tokenize(always, "Hey friend"), (Words{"▁Hey", "▁friend"}));
  EXPECT_EQ(pre_tokenize(always, "Hey friend", false), (Words{"▁Hey", "▁friend"}));
  const char* first =
      R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false})";
  EXPECT_EQ(pre_tokenize(first, "Hey friend"), (Words{"▁Hey▁friend"}));
  EXPECT_EQ(pre_tokenize(first, "Hey friend", false), (Words{"Hey▁friend"}));
  const char* legacy = R"({"type":"Metaspace","replacement":"▁","add_prefix_space":false})";
  EXPECT_EQ(pre_tokenize(legacy, "a b"), (Words{"a", "▁b"}));
}

TEST(HfPreTokenizer, SequenceAndWhitespace) {
  EXPECT_EQ(pre_tokenize(R"({"type":"Sequence","pretokenizers":[
              {"type":"WhitespaceSplit"},{"type":"Digits","individual_digits":true}]})",
                         " ab12  c\t"),
            (Words{"ab", "1", "2", "c"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"Whitespace"})", "Hi, you!"), (Words{"Hi", ",", "you", "!"}));
  auto p = HfPreTokenizer::build(
      Json::parse(R"({"type":"Sequence","pretokenizers":[{"type":"BertPreTokenizer"}]})"),
      "pre_tokenizer");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().to_string().find("pre_tokenizer.pretokenizers[0].type"), std::string::npos);
}

TEST(HfDecoder, SentencePieceStyleChain) {
  auto d = HfDecoder::build(Json::parse(R"({"type":"Sequence","decoders":[
      {"type":"Replace","pattern":{"String":"▁"},"content":" "},
      {"type":"ByteFallback"},{"type":"Fuse"},
      {"type":"Strip","content":" ","start":1,"stop":0}]})"),
                            "decoder");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->piece("▁Hello"), " Hello");
  EXPECT_EQ(d->piece("<0x0A>"), "\n");
  EXPECT_EQ(d->piece("<0xE2>"), "\xE2");
  EXPECT_TRUE(d->strips_leading_space());
}

TEST(HfDecoder, ByteLevelMetaspaceAndPerTokenStrip) {
  auto bl = HfDecoder::build(Json::parse(R"({"type":"ByteLevel"})"), "decoder");
  ASSERT_TRUE(bl.ok());
  EXPECT_EQ(bl->piece("ĠhelloĊ"), " hello\n");
  EXPECT_FALSE(bl->strips_leading_space());
  auto ms = HfDecoder::build(
      Json::parse(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always"})"),
      "decoder");
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(ms->piece("▁a▁b"), " a b");
  EXPECT_TRUE(ms->strips_leading_space());
  auto strip = HfDecoder::build(Json::parse(R"({"type":"Strip","content":"x","start":2,"stop":1})"),
                                "decoder");
  ASSERT_TRUE(strip.ok());
  EXPECT_EQ(strip->piece("xxxabx"), "xab");
}

TEST(HfDecoder, UnsupportedStepsAreErrorsNamingThePath) {
  auto after_fuse = HfDecoder::build(
      Json::parse(R"({"type":"Sequence","decoders":[{"type":"Fuse"},{"type":"ByteFallback"}]})"),
      "decoder");
  ASSERT_FALSE(after_fuse.ok());
  EXPECT_NE(after_fuse.status().to_string().find("decoder.decoders[1]"), std::string::npos);
  auto unknown = HfDecoder::build(Json::parse(R"({"type":"WordPiece"})"), "decoder");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().to_string().find("decoder.type \"WordPiece\""), std::string::npos);
}

}  // namespace
}  // namespace inferd::tokenizer
