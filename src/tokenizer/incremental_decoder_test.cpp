#include "tokenizer/incremental_decoder.h"

#include <gtest/gtest.h>

#include "tokenizer/test_vocab_builder.h"

namespace inferd::tokenizer {
namespace {

const std::string kW = "\xE2\x96\x81";

std::unique_ptr<Tokenizer> make_tokenizer() {
  auto s = testing::spm_spec({kW + "hi", kW, "hi", "!"}, {{"<|eot_id|>", 3}, {"<|tool|>", 4}});
  auto tok = testing::load(s.writer());
  EXPECT_TRUE(tok.ok()) << tok.status().to_string();
  return std::move(tok).value();
}

TokenId byte_token(uint8_t b) {
  return 3 + b;
}

TEST(IncrementalDecoder, HoldsBackSplitUtf8UntilComplete) {
  auto tok = make_tokenizer();
  IncrementalDecoder dec(*tok, /*skip_special=*/false, /*at_sequence_start=*/false);
  // U+1F642 (🙂) = F0 9F 99 82, fed one byte token at a time.
  EXPECT_EQ(dec.push(byte_token(0xF0)), "");
  EXPECT_EQ(dec.pending_bytes(), 1u);
  EXPECT_EQ(dec.push(byte_token(0x9F)), "");
  EXPECT_EQ(dec.push(byte_token(0x99)), "");
  EXPECT_EQ(dec.pending_bytes(), 3u);
  EXPECT_EQ(dec.push(byte_token(0x82)), "\xF0\x9F\x99\x82");
  EXPECT_EQ(dec.pending_bytes(), 0u);
  EXPECT_EQ(dec.flush(), "");
}

TEST(IncrementalDecoder, TextAroundSplitCharacterIsReleasedPromptly) {
  auto tok = make_tokenizer();
  IncrementalDecoder dec(*tok, false, false);
  std::string out;
  dec.push(tok->find_token(kW + "hi"), out);
  EXPECT_EQ(out, " hi");
  dec.push(byte_token(0xC3), out);  // first half of "é"
  EXPECT_EQ(out, " hi");
  dec.push(byte_token(0xA9), out);
  EXPECT_EQ(out, " hi\xC3\xA9");
}

TEST(IncrementalDecoder, FlushReplacesAnUnfinishedCharacter) {
  auto tok = make_tokenizer();
  IncrementalDecoder dec(*tok, false, false);
  EXPECT_EQ(dec.push(byte_token(0xE2)), "");
  EXPECT_EQ(dec.push(byte_token(0x96)), "");
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");  // U+FFFD
  EXPECT_EQ(dec.pending_bytes(), 0u);
}

TEST(IncrementalDecoder, MalformedBytesBecomeReplacementCharacters) {
  auto tok = make_tokenizer();
  IncrementalDecoder dec(*tok, false, false);
  std::string out;
  dec.push(byte_token(0xFF), out);       // never valid
  dec.push(byte_token(0xC3), out);       // lead byte ...
  dec.push(tok->find_token("hi"), out);  // ... not followed by a continuation byte
  dec.push(byte_token(0x80), out);       // stray continuation byte
  dec.flush(out);
  EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBDhi\xEF\xBF\xBD");
}

TEST(IncrementalDecoder, MatchesDecodeIncludingTheLeadingSpaceRule) {
  auto tok = make_tokenizer();
  for (const std::string text :
       {"hi hi!", " hi", "hi<|eot_id|>hi", "é🙂 hi", "<|tool|>hi", ""}) {
    for (bool parse_special : {false, true}) {
      for (bool skip_special : {false, true}) {
        const auto ids = tok->encode(text, /*add_special=*/true, parse_special);
        IncrementalDecoder dec(*tok, skip_special);
        std::string streamed;
        for (TokenId id : ids) dec.push(id, streamed);
        dec.flush(streamed);
        EXPECT_EQ(streamed, tok->decode(ids, skip_special)) << "[" << text << "]";
      }
    }
  }
}

TEST(IncrementalDecoder, ContinuationKeepsTheLeadingSpace) {
  auto tok = make_tokenizer();
  const TokenId hi = tok->find_token(kW + "hi");
  IncrementalDecoder start(*tok, true);
  EXPECT_EQ(start.push(hi), "hi");
  IncrementalDecoder continued(*tok, true, /*at_sequence_start=*/false);
  EXPECT_EQ(continued.push(hi), " hi");
  continued.reset(/*at_sequence_start=*/true);
  EXPECT_EQ(continued.push(hi), "hi");
}

TEST(IncrementalDecoder, SkipsSpecialTokensOnRequest) {
  auto tok = make_tokenizer();
  const TokenId eot = tok->find_token("<|eot_id|>");
  IncrementalDecoder skip(*tok, true, false);
  EXPECT_EQ(skip.push(eot), "");
  IncrementalDecoder render(*tok, false, false);
  EXPECT_EQ(render.push(eot), "<|eot_id|>");
  EXPECT_EQ(render.push(-1), "");
  EXPECT_EQ(render.push(tok->vocab_size()), "");
}

}  // namespace
}  // namespace inferd::tokenizer
