#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <thread>

#include "tokenizer/byte_level.h"
#include "tokenizer/test_vocab_builder.h"

namespace inferd::tokenizer {
namespace {

using testing::load;
using testing::spm_spec;
using testing::VocabSpec;

// "▁" as UTF-8.
const std::string kW = "\xE2\x96\x81";

std::unique_ptr<Tokenizer> spm_tokenizer(bool add_eos = false) {
  // Control <|eot_id|>, user-defined <|user|>.
  VocabSpec s = spm_spec({kW + "h", kW + "he", kW + "hel", kW + "hell", kW + "hello", kW, "l", "o",
                          "lo", kW + "w", "or", "ld", "w", "e", "h", "d", "r", "!"},
                         {{"<|eot_id|>", 3}, {"<|user|>", 4}, {"<|im_end|>", 3}});
  auto w = s.writer();
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
  w.set_bool("tokenizer.ggml.add_eos_token", add_eos);
  auto tok = load(w);
  EXPECT_TRUE(tok.ok()) << tok.status().to_string();
  return std::move(tok).value();
}

TEST(SpmTokenizer, MergesByScoreWithSpacePrefix) {
  auto tok = spm_tokenizer();
  const TokenId hello = tok->find_token(kW + "hello");
  ASSERT_NE(hello, kNoToken);
  EXPECT_EQ(tok->encode("hello", false, false), std::vector<TokenId>{hello});
  // A space inside the text is "▁" too.
  auto ids = tok->encode("hello world", false, false);
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], hello);
  EXPECT_EQ(tok->decode(ids, false), "hello world");
}

TEST(SpmTokenizer, AddSpecialFollowsMetadata) {
  auto tok = spm_tokenizer(/*add_eos=*/true);
  EXPECT_TRUE(tok->flags().add_bos);  // the SentencePiece default
  EXPECT_TRUE(tok->flags().add_eos);
  auto ids = tok->encode("hello", true, false);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
  EXPECT_EQ(tok->encode("hello", false, false).size(), 1u);
  // Empty text with special tokens is just BOS and EOS.
  EXPECT_EQ(tok->encode("", true, false), (std::vector<TokenId>{1, 2}));
  EXPECT_TRUE(tok->encode("", false, false).empty());
  // Decoding without special tokens gives the text back.
  EXPECT_EQ(tok->decode(ids, /*skip_special=*/true), "hello");
  EXPECT_EQ(tok->decode(ids, /*skip_special=*/false), "<s>hello</s>");
}

TEST(SpmTokenizer, ByteFallbackForUnknownCharacters) {
  auto tok = spm_tokenizer();
  // "é" is U+00E9 = C3 A9; no piece covers it, so it falls back to byte tokens <0xC3> <0xA9>.
  auto ids = tok->encode("é", false, false);
  const TokenId space = tok->find_token(kW);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], space);
  EXPECT_EQ(ids[1], 3 + 0xC3);
  EXPECT_EQ(ids[2], 3 + 0xA9);
  EXPECT_EQ(tok->token_to_piece(3 + 0xC3, false), "\xC3");
  EXPECT_EQ(tok->token_type(3 + 0xC3), TokenType::kByte);
  EXPECT_EQ(tok->decode(ids, false), "é");
}

TEST(SpmTokenizer, ParsesSpecialTokensOnlyWhenAsked) {
  auto tok = spm_tokenizer();
  const TokenId eot = tok->find_token("<|eot_id|>");
  const TokenId user = tok->find_token("<|user|>");
  auto parsed = tok->encode("hello<|eot_id|>", false, /*parse_special=*/true);
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[1], eot);
  auto plain = tok->encode("hello<|eot_id|>", false, /*parse_special=*/false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), eot), 0);
  EXPECT_GT(plain.size(), 2u);
  EXPECT_EQ(tok->decode(plain, false), "hello<|eot_id|>");
  // Control texts such as <s> are ordinary text unless parsed.
  auto s_plain = tok->encode("<s>", false, false);
  EXPECT_EQ(std::count(s_plain.begin(), s_plain.end(), 1), 0);
  EXPECT_EQ(tok->encode("<s>", false, true), std::vector<TokenId>{1});
  // User-defined tokens are recognised either way; text after them gets the space prefix again.
  auto with_user = tok->encode("<|user|>hello", false, false);
  ASSERT_EQ(with_user.size(), 2u);
  EXPECT_EQ(with_user[0], user);
  EXPECT_EQ(with_user[1], tok->find_token(kW + "hello"));
  EXPECT_EQ(tok->decode(with_user, false), "<|user|>hello");
}

TEST(SpmTokenizer, TokenToPieceAndRendering) {
  auto tok = spm_tokenizer();
  const TokenId hello = tok->find_token(kW + "hello");
  EXPECT_EQ(tok->token_to_piece(hello, false), " hello");
  EXPECT_EQ(tok->token_to_piece(1, false), "");
  EXPECT_EQ(tok->token_to_piece(1, true), "<s>");
  EXPECT_EQ(tok->token_to_piece(-5, true), "");
  EXPECT_EQ(tok->token_to_piece(tok->vocab_size(), true), "");
  EXPECT_EQ(tok->token_text(hello), kW + "hello");
  EXPECT_EQ(tok->token_type(1), TokenType::kControl);
  EXPECT_TRUE(tok->is_special(1));
  EXPECT_FALSE(tok->is_special(hello));
}

TEST(SpmTokenizer, EndOfGenerationTokens) {
  auto tok = spm_tokenizer();
  EXPECT_EQ(tok->bos(), 1);
  EXPECT_EQ(tok->eos(), 2);
  EXPECT_EQ(tok->eot(), tok->find_token("<|eot_id|>"));
  EXPECT_TRUE(tok->is_eog(2));
  EXPECT_TRUE(tok->is_eog(tok->find_token("<|eot_id|>")));
  EXPECT_TRUE(tok->is_eog(tok->find_token("<|im_end|>")));
  EXPECT_FALSE(tok->is_eog(1));
  EXPECT_FALSE(tok->is_eog(-1));
  EXPECT_EQ(tok->eog_tokens().size(), 3u);
}

TEST(SpmTokenizer, DecodeStripsOnlyTheAddedSpace) {
  auto tok = spm_tokenizer();
  for (std::string text : {"hello", " hello", "  hello  world!", "\n hello", "", " "}) {
    EXPECT_EQ(tok->decode(tok->encode(text, false, false), false), text) << "[" << text << "]";
    EXPECT_EQ(tok->decode(tok->encode(text, true, false), true), text) << "[" << text << "]";
  }
}

TEST(SpmTokenizer, RemoveExtraWhitespaces) {
  VocabSpec s = spm_spec({kW + "a", kW + "b", kW});
  auto w = s.writer();
  w.set_bool("tokenizer.ggml.remove_extra_whitespaces", true);
  auto tok = load(w);
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ((*tok)->encode("  a   b ", false, false), (*tok)->encode("a b", false, false));
}

TEST(SpmTokenizer, NoSpacePrefixWhenDisabled) {
  VocabSpec s = spm_spec({kW + "a", "a", kW});
  auto w = s.writer();
  w.set_bool("tokenizer.ggml.add_space_prefix", false);
  auto tok = load(w);
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ((*tok)->encode("a", false, false), std::vector<TokenId>{(*tok)->find_token("a")});
  EXPECT_EQ((*tok)->decode((*tok)->encode(" a", false, false), false), " a");
}

TEST(SpmTokenizer, LongInputsWithoutSpacesStayFast) {
  auto tok = spm_tokenizer();
  std::string text(200000, 'l');
  text += std::string(100000, 'o');
  auto ids = tok->encode(text, false, false);
  EXPECT_EQ(tok->decode(ids, false), text);
}

TEST(SpmTokenizer, TokensSpanningWordStartsAreFound) {
  // "a▁b" continues past a word start, so words cannot be segmented separately.
  VocabSpec s = spm_spec({kW + "b", "a" + kW + "b", kW, "a", "b"});
  auto tok = load(s.writer());
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ((*tok)->encode("a b", false, false),
            (std::vector<TokenId>{(*tok)->find_token(kW), (*tok)->find_token("a" + kW + "b")}));
}

// Deterministic pseudo-random bytes.
std::string random_bytes(uint32_t seed, size_t n, bool avoid_high_bytes = false) {
  std::string out(n, '\0');
  for (char& c : out) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
    if (avoid_high_bytes && static_cast<uint8_t>(c) >= 0xE0) c = 'x';
  }
  return out;
}

TEST(SpmTokenizer, ArbitraryBytesRoundTrip) {
  auto tok = spm_tokenizer();
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    // Bytes of U+2581 are avoided: SentencePiece reads that character as a space.
    const std::string text = random_bytes(seed, 1 + seed * 7, /*avoid_high_bytes=*/true);
    for (bool parse_special : {false, true}) {
      const auto ids = tok->encode(text, true, parse_special);
      EXPECT_EQ(tok->decode(ids, true), text) << "seed " << seed;
    }
  }
}

TEST(SpmTokenizer, ConcurrentEncodingIsConsistent) {
  auto tok = spm_tokenizer();
  const std::string text = "hello world<|eot_id|> hello é";
  const auto expected = tok->encode(text, true, true);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i)
        if (tok->encode(text, true, true) != expected) ++mismatches;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// Byte-level BPE vocabulary: the 256 byte characters, then merged tokens.
VocabSpec bpe_spec(const std::vector<std::string>& merges, const std::string& pre) {
  VocabSpec s;
  s.model = "gpt2";
  for (int b = 0; b < 256; ++b) s.tokens.emplace_back(byte_to_unicode_utf8(uint8_t(b)));
  s.types.assign(256, 1);
  for (const std::string& m : merges) {
    std::string joined = m;
    joined.erase(joined.find(' '), 1);
    s.tokens.push_back(joined);
    s.types.push_back(1);
  }
  s.merges = merges;
  s.tokens.push_back("<|endoftext|>");
  s.types.push_back(3);
  (void)pre;
  return s;
}

std::unique_ptr<Tokenizer> bpe_tokenizer(const std::string& pre = "gpt-2") {
  // "Ġ" is the byte-level character of a space.
  VocabSpec s =
      bpe_spec({"h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "Ġwor ld", "l d"}, pre);
  auto w = s.writer();
  w.set_string("tokenizer.ggml.pre", pre);
  w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(s.tokens.size() - 1));
  w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(s.tokens.size() - 1));
  auto tok = load(w);
  EXPECT_TRUE(tok.ok()) << pre << ": " << tok.status().to_string();
  return std::move(tok).value();
}

TEST(BpeTokenizer, MergesByRankWithinPreTokenizedPieces) {
  auto tok = bpe_tokenizer();
  auto ids = tok->encode("hello world", false, false);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(tok->token_text(ids[0]), "hello");
  EXPECT_EQ(tok->token_text(ids[1]), "Ġworld");
  EXPECT_EQ(tok->token_to_piece(ids[1], false), " world");
  EXPECT_EQ(tok->decode(ids, false), "hello world");
  // No BOS for GPT-2 style vocabularies unless the metadata asks.
  EXPECT_FALSE(tok->flags().add_bos);
  EXPECT_EQ(tok->encode("hello", true, false).size(), 1u);
}

TEST(BpeTokenizer, EveryByteRoundTrips) {
  auto tok = bpe_tokenizer();
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  all += "héllo wörld 🙂 \xFF\xFE";
  EXPECT_EQ(tok->decode(tok->encode(all, false, false), false), all);
}

TEST(BpeTokenizer, ArbitraryBytesRoundTrip) {
  for (const char* pre : {"gpt-2", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder", "falcon",
                          "chameleon", "tekken", "default", "deepseek-v3", "bloom"}) {
    auto tok = bpe_tokenizer(pre);
    for (uint32_t seed = 1; seed <= 30; ++seed) {
      const std::string text = random_bytes(seed, 1 + seed * 11);
      EXPECT_EQ(tok->decode(tok->encode(text, false, false), false), text)
          << pre << " seed " << seed;
    }
  }
}

TEST(BpeTokenizer, SpecialTokenParsing) {
  auto tok = bpe_tokenizer();
  const TokenId eot = tok->find_token("<|endoftext|>");
  EXPECT_EQ(tok->encode("hello<|endoftext|>", false, true).back(), eot);
  auto plain = tok->encode("hello<|endoftext|>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), eot), 0);
  EXPECT_TRUE(tok->is_eog(eot));
  EXPECT_EQ(tok->eot(), eot);
}

TEST(BpeTokenizer, Llama3PreTokenizerAddsBos) {
  VocabSpec s = bpe_spec({"h e", "l l", "he ll", "hell o"}, "llama-bpe");
  s.tokens.push_back("<|begin_of_text|>");
  s.types.push_back(3);
  auto w = s.writer();
  w.set_string("tokenizer.ggml.pre", "llama-bpe");
  w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(s.tokens.size() - 1));
  auto tok = load(w);
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EXPECT_TRUE((*tok)->flags().add_bos);
  auto ids = (*tok)->encode("hello 1234567", true, false);
  EXPECT_EQ(ids.front(), (*tok)->bos());
  EXPECT_EQ((*tok)->decode(ids, true), "hello 1234567");
}

TEST(WordPieceTokenizer, LowercasesStripsAccentsAndSplitsPunctuation) {
  VocabSpec s;
  s.model = "bert";
  s.tokens = {"[PAD]",     "[UNK]",  "[CLS]",   "[SEP]", "[MASK]", kW + "hello",
              kW + "cafe", kW + "!", kW + "un", "aff",   "able",   kW + "world"};
  s.types = {3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  auto w = s.writer();
  w.set_u32("tokenizer.ggml.unknown_token_id", 1);
  w.set_u32("tokenizer.ggml.cls_token_id", 2);
  w.set_u32("tokenizer.ggml.seperator_token_id", 3);
  w.set_u32("tokenizer.ggml.padding_token_id", 0);
  w.set_u32("tokenizer.ggml.mask_token_id", 4);
  auto tok = load(w);
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  EXPECT_EQ((*tok)->encode("Hello CAFÉ!", false, false), (std::vector<TokenId>{5, 6, 7}));
  EXPECT_EQ((*tok)->encode("unaffable", false, false), (std::vector<TokenId>{8, 9, 10}));
  EXPECT_EQ((*tok)->encode("unknownword world", false, false), (std::vector<TokenId>{1, 11}));
  EXPECT_EQ((*tok)->encode("hello", true, false), (std::vector<TokenId>{2, 5, 3}));
  EXPECT_EQ((*tok)->decode((*tok)->encode("hello world", false, false), false), "hello world");
  // Any bytes are accepted.
  for (uint32_t seed = 1; seed <= 30; ++seed)
    (*tok)->encode(random_bytes(seed, seed * 13), true, true);
}

// Malformed metadata: each case is one mistake, reported as an error (never a crash).
struct BadCase {
  const char* name;
  std::function<void(format::GgufWriter&)> mutate;
  VocabSpec spec;
};

TEST(TokenizerMetadata, MalformedMetadataIsAnError) {
  const VocabSpec good = spm_spec({kW + "a"});
  ASSERT_TRUE(load(good.writer()).ok());
  VocabSpec bpe_good = bpe_spec({"h e"}, "gpt-2");
  ASSERT_TRUE(load(bpe_good.writer()).ok());

  auto spec_with = [&](auto change) {
    VocabSpec s = good;
    change(s);
    return s;
  };
  auto bpe_with = [&](auto change) {
    VocabSpec s = bpe_good;
    change(s);
    return s;
  };
  std::vector<BadCase> cases = {
      {"empty model name", [](auto& w) { w.set_string("tokenizer.ggml.model", ""); }, good},
      {"unknown model", [](auto& w) { w.set_string("tokenizer.ggml.model", "t9"); }, good},
      {"model not a string", [](auto& w) { w.set_u32("tokenizer.ggml.model", 1); }, good},
      {"tokens not strings",
       [](auto& w) {
         w.set_array("tokenizer.ggml.tokens", testing::i32_array({1, 2}));
       },
       good},
      {"no tokens", [](auto&) {}, VocabSpec{}},
      {"scores too short", [](auto&) {}, spec_with([](VocabSpec& s) { s.scores.pop_back(); })},
      {"types too long", [](auto&) {}, spec_with([](VocabSpec& s) { s.types.push_back(1); })},
      {"bad token type", [](auto&) {}, spec_with([](VocabSpec& s) { s.types[5] = 9; })},
      {"negative token type", [](auto&) {}, spec_with([](VocabSpec& s) { s.types[5] = -1; })},
      {"duplicate token", [](auto&) {}, spec_with([](VocabSpec& s) { s.tokens[4] = s.tokens[5]; })},
      {"scores not floats",
       [](auto& w) { w.set_array("tokenizer.ggml.scores", testing::string_array({"x"})); }, good},
      {"bos out of range", [](auto& w) { w.set_u32("tokenizer.ggml.bos_token_id", 100000); }, good},
      {"eos negative", [](auto& w) { w.set_i32("tokenizer.ggml.eos_token_id", -3); }, good},
      {"eot out of range", [](auto& w) { w.set_u32("tokenizer.ggml.eot_token_id", 260); },
       spec_with(
           [](VocabSpec& s) { s.tokens.resize(260), s.scores.resize(260), s.types.resize(260); })},
      {"pad not an integer", [](auto& w) { w.set_string("tokenizer.ggml.padding_token_id", "0"); },
       good},
      {"add_bos not a bool", [](auto& w) { w.set_string("tokenizer.ggml.add_bos_token", "yes"); },
       good},
      {"add_eos without eos", [](auto& w) { w.set_bool("tokenizer.ggml.add_eos_token", true); },
       bpe_good},
      {"bpe without merges", [](auto&) {}, bpe_with([](VocabSpec& s) { s.merges.clear(); })},
      {"merge without separator", [](auto&) {},
       bpe_with([](VocabSpec& s) { s.merges.push_back("he"); })},
      {"merge with empty side", [](auto&) {},
       bpe_with([](VocabSpec& s) { s.merges.push_back("h "); })},
      {"merge of unknown token", [](auto&) {},
       bpe_with([](VocabSpec& s) { s.merges.push_back("he zz"); })},
      {"merge result not a token", [](auto&) {},
       bpe_with([](VocabSpec& s) { s.merges.push_back("a b"); })},
      {"unknown pre-tokenizer", [](auto& w) { w.set_string("tokenizer.ggml.pre", "no-such-pre"); },
       bpe_good},
  };
  for (const BadCase& c : cases) {
    auto w = c.spec.writer();
    c.mutate(w);
    auto tok = load(w);
    EXPECT_FALSE(tok.ok()) << c.name;
    if (!tok.ok()) {
      EXPECT_NE(tok.status().message().find("tokenizer"), std::string::npos)
          << c.name << ": " << tok.status().to_string();
    }
  }
}

TEST(TokenizerMetadata, MissingTokenizerIsNotFound) {
  format::GgufWriter w;
  w.set_string("general.architecture", "llama");
  auto tok = load(w);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace inferd::tokenizer
