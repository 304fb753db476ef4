// Unit tests of Tokenizer::from_hf_json() / from_hf_dir() and HfTokenizerConfig on small
// tokenizer.json files written here: a SentencePiece-style BPE with byte fallback and a
// byte-level BPE, with added tokens and a TemplateProcessing post-processor.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "testing/test_paths.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/hf_tokenizer_config.h"
#include "tokenizer/incremental_decoder.h"
#include "tokenizer/tokenizer.h"

namespace inferd::tokenizer {
namespace {

using Ids = std::vector<TokenId>;

// <unk> <s> </s>, the 256 byte tokens (ids 3..258), then ▁ a b ▁a ab ▁ab.
Json spm_style_json() {
  Json vocab = Json::object();
  vocab["<unk>"] = 0;
  vocab["<s>"] = 1;
  vocab["</s>"] = 2;
  for (int b = 0; b < 256; ++b) vocab[fmt::format("<0x{:02X}>", b)] = 3 + b;
  const char* words[] = {"▁", "a", "b", "▁a", "ab", "▁ab"};
  for (int i = 0; i < 6; ++i) vocab[words[i]] = 259 + i;
  Json j = Json::parse(R"({
    "added_tokens": [
      {"id":0,"content":"<unk>","special":true,"lstrip":false,"rstrip":false,"normalized":false,"single_word":false},
      {"id":1,"content":"<s>","special":true,"lstrip":false,"rstrip":false,"normalized":false,"single_word":false},
      {"id":2,"content":"</s>","special":true,"lstrip":false,"rstrip":false,"normalized":false,"single_word":false}],
    "normalizer": {"type":"Sequence","normalizers":[
      {"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
    "pre_tokenizer": null,
    "post_processor": {"type":"TemplateProcessing",
      "single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
      "pair":[],
      "special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}},
    "decoder": {"type":"Sequence","decoders":[
      {"type":"Replace","pattern":{"String":"▁"},"content":" "},
      {"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
    "model": {"type":"BPE","dropout":null,"unk_token":"<unk>","byte_fallback":true,"fuse_unk":true,
      "ignore_merges":false,"merges":[["▁","a"],["a","b"],["▁a","b"]]}
  })");
  j["model"]["vocab"] = vocab;
  return j;
}

// The 256 byte-level characters (id = byte), then Ġa ab, added <|end|> (special), <tool>.
Json byte_level_json() {
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) vocab[std::string(byte_to_unicode_utf8(uint8_t(b)))] = b;
  vocab["Ġa"] = 256;
  vocab["ab"] = 257;
  Json j = Json::parse(R"({
    "added_tokens": [
      {"id":258,"content":"<|end|>","special":true,"lstrip":false,"rstrip":false,"normalized":false,"single_word":false},
      {"id":259,"content":"<tool>","special":false,"lstrip":false,"rstrip":true,"normalized":false,"single_word":false}],
    "normalizer": null,
    "pre_tokenizer": {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
    "post_processor": {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":true},
    "decoder": {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
    "model": {"type":"BPE","ignore_merges":true,"merges":["Ġ a","a b"]}
  })");
  j["model"]["vocab"] = vocab;
  return j;
}

HfTokenizerConfig config_with(std::string bos, std::string eos) {
  HfTokenizerConfig c;
  c.bos_token = std::move(bos);
  c.eos_token = std::move(eos);
  return c;
}

std::unique_ptr<Tokenizer> load(const Json& j, const HfTokenizerConfig& config) {
  auto tok = Tokenizer::from_hf_json(j.dump(), config);
  EXPECT_TRUE(tok.ok()) << tok.status().to_string();
  return tok.ok() ? std::move(tok).value() : nullptr;
}

TEST(HfTokenizer, SentencePieceStyleBpeWithByteFallback) {
  auto tok = load(spm_style_json(), config_with("<s>", "</s>"));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->model(), TokenizerModel::kHfBpe);
  EXPECT_EQ(tok->bos(), 1);
  EXPECT_EQ(tok->eos(), 2);
  EXPECT_TRUE(tok->flags().add_bos);
  EXPECT_EQ(tok->encode("ab", true, false), (Ids{1, 264}));
  // é has no token: its two bytes.
  EXPECT_EQ(tok->encode("ab \xC3\xA9", false, false), (Ids{264, 259, 3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ(tok->encode("ba", false, false), (Ids{259, 261, 260}));
  EXPECT_EQ(tok->decode(Ids{264, 259, 3 + 0xC3, 3 + 0xA9}, false), "ab \xC3\xA9");
  EXPECT_EQ(tok->decode(Ids{1, 264}, true), "ab");
  EXPECT_EQ(tok->encode("<s>ab", false, true), (Ids{1, 264}));
  EXPECT_TRUE(tok->is_special(1));
  EXPECT_EQ(tok->piece(3 + 0x0A), "\n");
}

TEST(HfTokenizer, ByteLevelBpeWithAddedTokens) {
  auto tok = load(byte_level_json(), config_with("", "<|end|>"));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->bos(), kNoToken);
  EXPECT_FALSE(tok->flags().add_bos);
  EXPECT_EQ(tok->eos(), 258);
  EXPECT_TRUE(tok->is_eog(258));
  // "ab a" -> "ab" "Ġa"; <tool> swallows the spaces after it (rstrip); <|end|> parsed.
  const Ids ids = tok->encode("ab a<tool>  x<|end|>", false, true);
  EXPECT_EQ(ids, (Ids{257, 256, 259, 'x', 258}));
  EXPECT_EQ(tok->decode(ids, false), "ab a<tool>x<|end|>");
  EXPECT_EQ(tok->decode(ids, true), "ab a<tool>x");
  // Unparsed, the special token is plain text; the added (non-special) token is still matched.
  const Ids plain = tok->encode("<|end|><tool>", false, false);
  EXPECT_GT(plain.size(), 2u);
  EXPECT_EQ(plain.back(), 259);
  // Any bytes encode and decode back.
  const std::string bytes("\xFF\x00\x80 \xE2\x82", 6);
  EXPECT_EQ(tok->decode(tok->encode(bytes, false, false), false), bytes);
  IncrementalDecoder stream(*tok, false);
  std::string streamed;
  for (TokenId id : tok->encode("ab a", false, false)) stream.push(id, streamed);
  stream.flush(streamed);
  EXPECT_EQ(streamed, "ab a");
}

// With ignore_merges, a word that is the text of a special token is still segmented as text
// when special tokens are not parsed.
TEST(HfTokenizer, SpecialTokenTextIsNotAWholeWord) {
  Json j = byte_level_json();
  j["added_tokens"].push_back(Json{{"id", 260}, {"content", "zz"}, {"special", true}});
  auto tok = load(j, config_with("", ""));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->encode("zz", false, false), (Ids{'z', 'z'}));
  EXPECT_EQ(tok->encode("zz", false, true), (Ids{260}));
}

TEST(HfTokenizer, ErrorsNameTheJsonPath) {
  struct Case {
    Json patch;
    std::string expected;
  };
  const Case cases[] = {
      {Json{{"model", {{"type", "Unigram"}}}}, "model.type \"Unigram\""},
      {Json{{"model", {{"merges", Json::array({"a b", "x y"})}}}}, "model.merges[1]"},
      {Json{{"model", {{"merges", Json::array({"a b c"})}}}}, "model.merges[0]"},
      {Json{{"model", {{"dropout", 0.1}}}}, "model.dropout"},
      {Json{{"pre_tokenizer", {{"type", "Punctuation"}}}}, "pre_tokenizer.type \"Punctuation\""},
      {Json{{"post_processor", {{"type", "RobertaProcessing"}}}}, "post_processor.type"},
      {Json{{"decoder", {{"type", "CTC"}}}}, "decoder.type \"CTC\""},
      {Json{{"added_tokens", Json::array({Json{{"id", -4}, {"content", "x"}}})}},
       "added_tokens[0].id"},
  };
  for (const Case& c : cases) {
    Json j = byte_level_json();
    j.merge_patch(c.patch);
    auto tok = Tokenizer::from_hf_json(j.dump(), HfTokenizerConfig{});
    ASSERT_FALSE(tok.ok()) << c.patch.dump();
    EXPECT_NE(tok.status().to_string().find(c.expected), std::string::npos)
        << tok.status().to_string();
  }
  EXPECT_FALSE(Tokenizer::from_hf_json("{not json", HfTokenizerConfig{}).ok());
  auto missing_eos = Tokenizer::from_hf_json(byte_level_json().dump(), config_with("", "<nope>"));
  ASSERT_FALSE(missing_eos.ok());
  EXPECT_NE(missing_eos.status().to_string().find("eos_token \"<nope>\""), std::string::npos);
}

// Every value of the files, and every object or array holding them, replaced by a value of each
// other JSON type: loading returns (an error or a tokenizer) and never crashes.
TEST(HfTokenizer, WrongTypesAnywhereAreErrorsNotCrashes) {
  const Json replacements[] = {Json(),        Json(42),       Json(-1),  Json("x"),
                               Json::array(), Json::object(), Json(true)};
  for (const Json& original : {byte_level_json(), spm_style_json()}) {
    std::vector<Json::json_pointer> pointers;
    const Json flat = original.flatten();
    for (const auto& [key, value] : flat.items()) {
      Json::json_pointer ptr(key);
      // Only a few vocabulary entries: they all take the same path.
      if (key.rfind("/model/vocab/", 0) == 0 && ptr.back().size() > 1) continue;
      for (; !ptr.empty(); ptr = ptr.parent_pointer()) pointers.push_back(ptr);
    }
    size_t loaded = 0;
    for (const auto& ptr : pointers) {
      for (const Json& r : replacements) {
        Json j = original;
        j[ptr] = r;
        auto tok = Tokenizer::from_hf_json(j.dump(), config_with("", ""));
        if (!tok.ok()) continue;
        ++loaded;
        const Ids ids = (*tok)->encode("ab a\xC3\xA9<|end|><s>", true, true);
        for (TokenId id : ids) EXPECT_TRUE((*tok)->contains(id));
        (void)(*tok)->decode(ids, false);
      }
    }
    EXPECT_GT(loaded, 0u);
  }
}

TEST(HfTokenizerConfig, ChatTemplateForms) {
  auto plain = HfTokenizerConfig::parse(
      R"({"chat_template":"{{ messages }}","bos_token":{"content":"<s>","lstrip":false},"eos_token":"</s>"})",
      "", "");
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  EXPECT_EQ(plain->chat_template, "{{ messages }}");
  EXPECT_EQ(plain->bos_token, "<s>");
  EXPECT_EQ(plain->eos_token, "</s>");

  auto named = HfTokenizerConfig::parse(
      R"({"chat_template":[{"name":"tool_use","template":"T"},{"name":"default","template":"D"}]})",
      R"({"eos_token":{"content":"<|end|>"},"pad_token":"<pad>"})", "");
  ASSERT_TRUE(named.ok()) << named.status().to_string();
  EXPECT_EQ(named->chat_template, "D");
  ASSERT_EQ(named->named_chat_templates.size(), 2u);
  EXPECT_EQ(named->named_chat_templates[0].first, "tool_use");
  EXPECT_EQ(named->eos_token, "<|end|>");
  EXPECT_EQ(named->pad_token, "<pad>");

  auto jinja = HfTokenizerConfig::parse(R"({"chat_template":"old"})", "", "new {{ x }}");
  ASSERT_TRUE(jinja.ok());
  EXPECT_EQ(jinja->chat_template, "new {{ x }}");

  auto bad = HfTokenizerConfig::parse(R"({"chat_template":[{"name":"default"}]})", "", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().to_string().find("chat_template[0].template"), std::string::npos);
  EXPECT_FALSE(HfTokenizerConfig::parse("[1,2", "", "").ok());
}

TEST(HfTokenizerConfig, ReadsADirectory) {
  const auto dir = testing::temp_dir();
  std::ofstream(dir / "tokenizer.json") << byte_level_json().dump();
  std::ofstream(dir / "tokenizer_config.json") << R"({"eos_token":"<|end|>"})";
  std::ofstream(dir / "chat_template.jinja")
      << "{% for m in messages %}{{ m.content }}{% endfor %}";
  auto config = HfTokenizerConfig::read(dir);
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  EXPECT_EQ(config->chat_template, "{% for m in messages %}{{ m.content }}{% endfor %}");
  auto tok = Tokenizer::from_hf_dir(dir);
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EXPECT_EQ((*tok)->eos(), 258);

  auto missing = Tokenizer::from_hf_dir(dir / "absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().to_string().find("tokenizer.json"), std::string::npos);
}

}  // namespace
}  // namespace inferd::tokenizer
