#include "engine/grammar/grammar_matcher.h"

#include <cmath>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "engine/grammar/grammar_testing.h"

namespace inferd::engine {
namespace {

using testing::byte_vocab;
using testing::compile_gbnf;
using testing::make_vocab;
using testing::matches_bytewise;

std::set<TokenId> allowed_set(GrammarMatcher& m, int32_t vocab_size) {
  std::vector<float> logits(static_cast<size_t>(vocab_size), 0.0f);
  m.fill_allowed(logits);
  std::set<TokenId> out;
  for (int32_t i = 0; i < vocab_size; ++i)
    if (!std::isinf(logits[static_cast<size_t>(i)])) out.insert(i);
  return out;
}

// The definition: a token is allowed iff the text so far followed by its bytes is accepted, or
// (EOG) the text so far is complete.
std::set<TokenId> oracle_set(const std::shared_ptr<const CompiledGrammar>& g, const std::string& prefix) {
  std::set<TokenId> out;
  const GrammarVocab& v = g->vocab();
  for (TokenId id = 0; id < v.size(); ++id) {
    GrammarMatcher m(g);
    if (!m.accept_bytes(prefix).ok()) return {};
    if (v.is_eog(id)) {
      if (m.can_terminate()) out.insert(id);
      continue;
    }
    if (!v.is_text(id)) continue;
    if (m.accept_bytes(v.bytes(id)).ok()) out.insert(id);
  }
  return out;
}

TEST(GrammarMatcher, LiteralAndEog) {
  auto g = compile_gbnf(R"(root ::= "ab" "c"?)", make_vocab({"a", "b", "ab", "abc", "c", "bc", "x"}));
  GrammarMatcher m(g);
  EXPECT_EQ(allowed_set(m, 8), (std::set<TokenId>{0, 2, 3}));
  EXPECT_FALSE(m.can_terminate());
  EXPECT_FALSE(m.accept_token(7).ok()) << "EOG before completion";
  ASSERT_TRUE(m.accept_token(0).ok());
  EXPECT_EQ(allowed_set(m, 8), (std::set<TokenId>{1, 5}));
  ASSERT_TRUE(m.accept_token(1).ok());
  EXPECT_TRUE(m.can_terminate());
  EXPECT_FALSE(m.is_finished());
  EXPECT_EQ(allowed_set(m, 8), (std::set<TokenId>{4, 7}));
  ASSERT_TRUE(m.accept_token(4).ok());
  EXPECT_TRUE(m.is_finished()) << "nothing can follow \"abc\"";
  EXPECT_EQ(allowed_set(m, 8), (std::set<TokenId>{7}));
  ASSERT_TRUE(m.accept_token(7).ok());
  EXPECT_TRUE(m.is_finished());
  EXPECT_FALSE(m.accept_token(7).ok());
}

TEST(GrammarMatcher, RejectedTokenLeavesStateUnchanged) {
  auto g = compile_gbnf(R"(root ::= "{" [0-9]+ "}")", make_vocab({"{", "1", "}", "x", "1x", "{1}"}));
  GrammarMatcher m(g);
  ASSERT_TRUE(m.accept_token(0).ok());
  const auto before = allowed_set(m, 7);
  const Status st = m.accept_token(4);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not allowed"), std::string::npos) << st.message();
  EXPECT_EQ(allowed_set(m, 7), before);
  EXPECT_TRUE(m.accept_token(1).ok());
  EXPECT_FALSE(m.accept_token(-1).ok());
  EXPECT_FALSE(m.accept_token(99).ok());
}

TEST(GrammarMatcher, TokensSpanStructureBoundaries) {
  auto g = compile_gbnf(R"(root ::= "{" ws "\"a\"" ws ":" ws num ws "}"
num ::= "-"? [0-9]+
ws ::= " "?)",
                        make_vocab({"{\"", "a", "\":", " 1", "2}", "{\"a\": -3}", "{", "\"", "a\"", ":", " ",
                                    "-", "1", "}", " }", "a\": 12 }"}));
  GrammarMatcher m(g);
  EXPECT_EQ(allowed_set(m, 17), oracle_set(g, ""));
  EXPECT_TRUE(allowed_set(m, 17).count(5)) << "a token holding the whole object";
  ASSERT_TRUE(m.accept_token(0).ok());  // {"
  EXPECT_EQ(allowed_set(m, 17), oracle_set(g, "{\""));
  EXPECT_TRUE(allowed_set(m, 17).count(15)) << "a\": 12 } spans key, colon, number and brace";
  ASSERT_TRUE(m.accept_token(1).ok());  // a
  ASSERT_TRUE(m.accept_token(2).ok());  // ":
  ASSERT_TRUE(m.accept_token(3).ok());  // " 1"
  EXPECT_EQ(allowed_set(m, 17), oracle_set(g, "{\"a\": 1"));
  ASSERT_TRUE(m.accept_token(4).ok());  // 2}
  EXPECT_TRUE(m.is_finished());
}

TEST(GrammarMatcher, MultiByteUtf8AcrossTokens) {
  // "中" is E4 B8 AD, "é" is C3 A9.
  auto g = compile_gbnf(R"(root ::= "\"" [^"\x00-\x1F]* "\"")",
                        make_vocab({"\"", "\xE4", "\xB8\xAD", "\xE4\xB8", "\xAD\"", "\xC3", "\xA9", "\xAD", "a",
                                    "\xFF", "\xB8", "\xC3\xA9\"", "\xED\xA0\x80"}));
  GrammarMatcher m(g);
  ASSERT_TRUE(m.accept_token(0).ok());
  auto allowed = allowed_set(m, 14);
  EXPECT_EQ(allowed, oracle_set(g, "\""));
  EXPECT_TRUE(allowed.count(1)) << "a lead byte alone";
  EXPECT_TRUE(allowed.count(3)) << "two of three bytes";
  EXPECT_FALSE(allowed.count(2)) << "continuation bytes cannot start a character";
  EXPECT_FALSE(allowed.count(9)) << "0xFF is never UTF-8";
  EXPECT_FALSE(allowed.count(12)) << "an encoded surrogate is not UTF-8";
  ASSERT_TRUE(m.accept_token(1).ok());  // E4
  allowed = allowed_set(m, 14);
  EXPECT_EQ(allowed, oracle_set(g, "\"\xE4"));
  EXPECT_TRUE(allowed.count(2));
  EXPECT_TRUE(allowed.count(10));
  EXPECT_FALSE(allowed.count(0)) << "a quote cannot interrupt a character";
  EXPECT_FALSE(allowed.count(4)) << "AD is not a valid second byte after E4";
  ASSERT_TRUE(m.accept_token(10).ok());  // B8
  allowed = allowed_set(m, 14);
  EXPECT_TRUE(allowed.count(4)) << "AD\" completes the character and the string";
  EXPECT_TRUE(allowed.count(7));
  ASSERT_TRUE(m.accept_token(4).ok());
  EXPECT_TRUE(m.can_terminate());
}

TEST(GrammarMatcher, SpecialTokensOnlyThroughTokenElements) {
  auto g = compile_gbnf(R"(root ::= @"[CALL]" "x" | "y")", make_vocab({"x", "y", "[CALL]"}, {"[CALL]"}));
  // Ids: 0 x, 1 y, 2 "[CALL]" as text, 3 [CALL] special, 4 EOG.
  GrammarMatcher m(g);
  EXPECT_EQ(allowed_set(m, 5), (std::set<TokenId>{1, 3}));
  ASSERT_TRUE(m.accept_token(3).ok());
  EXPECT_EQ(allowed_set(m, 5), (std::set<TokenId>{0}));

  auto missing = parse_gbnf(R"(root ::= @"<none>")");
  ASSERT_TRUE(missing.ok());
  auto c = CompiledGrammar::compile(*missing, make_vocab({"x"}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "grammar names token \"<none>\", which the vocabulary lacks");
  auto by_id = compile_gbnf("root ::= @0 @2", make_vocab({"x", "y"}, {"<t>"}));
  GrammarMatcher m2(by_id);
  EXPECT_EQ(allowed_set(m2, 4), (std::set<TokenId>{0}));
  ASSERT_TRUE(m2.accept_token(0).ok());
  EXPECT_EQ(allowed_set(m2, 4), (std::set<TokenId>{2}));
}

TEST(GrammarMatcher, EmptyAndOverlongTokensAreNeverAllowed) {
  std::vector<std::string> texts = {"", "a", std::string(GrammarVocab::kMaxTokenBytes + 1, 'a')};
  auto g = compile_gbnf("root ::= \"a\"*", make_vocab(texts));
  GrammarMatcher m(g);
  EXPECT_EQ(allowed_set(m, 4), (std::set<TokenId>{1, 3}));
}

TEST(GrammarMatcher, PaddedLogitsAreMasked) {
  auto g = compile_gbnf("root ::= \"a\"", make_vocab({"a", "b"}));
  GrammarMatcher m(g);
  std::vector<float> logits(8, 1.0f);
  m.fill_allowed(logits);
  EXPECT_EQ(logits[0], 1.0f);
  for (size_t i = 1; i < logits.size(); ++i) EXPECT_TRUE(std::isinf(logits[i])) << i;
}

TEST(GrammarMatcher, AcceptBytesReportsOffset) {
  auto g = compile_gbnf(R"(root ::= "abc")", byte_vocab());
  GrammarMatcher m(g);
  const Status st = m.accept_bytes("abx");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "text rejected by the grammar at byte 2 (\"x\")");
  EXPECT_TRUE(m.accept_bytes("ab").ok());
  EXPECT_TRUE(m.accept_bytes("c").ok());
  EXPECT_TRUE(m.is_finished());
}

TEST(GrammarMatcher, ShortestCompletion) {
  auto g = compile_gbnf(R"(root ::= "{" ("\"k\":" [0-9]+ ("," "\"k\":" [0-9]+)*)? "}" )", byte_vocab());
  GrammarMatcher m(g);
  ASSERT_TRUE(m.accept_bytes("{\"k\":12,\"").ok());
  auto c = m.shortest_completion();
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(*c, "k\":0}");
  ASSERT_TRUE(m.accept_bytes(*c).ok());
  EXPECT_TRUE(m.can_terminate());
  auto done = m.shortest_completion();
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(*done, "");
}

TEST(GrammarMatcher, AmbiguousGrammarKeepsParallelParses) {
  auto g = compile_gbnf(R"(root ::= a | b
a ::= "x" [0-9]+ "y"
b ::= "x" [0-9]+ "z")",
                        byte_vocab());
  EXPECT_TRUE(matches_bytewise(g, "x12y"));
  EXPECT_TRUE(matches_bytewise(g, "x3z"));
  EXPECT_FALSE(matches_bytewise(g, "x3"));
  EXPECT_FALSE(matches_bytewise(g, "xy"));
}

TEST(GrammarMatcher, RecursionUsesTheStack) {
  auto g = compile_gbnf(R"g(root ::= "(" root ")" root | "")g", byte_vocab());
  EXPECT_TRUE(matches_bytewise(g, ""));
  EXPECT_TRUE(matches_bytewise(g, "(()())((()))"));
  EXPECT_FALSE(matches_bytewise(g, "(()"));
  EXPECT_FALSE(matches_bytewise(g, "())"));
  std::string deep(2000, '(');
  deep += std::string(2000, ')');
  EXPECT_TRUE(matches_bytewise(g, deep));
}

TEST(GrammarMatcher, CountedRepetition) {
  auto g = compile_gbnf(R"(root ::= [a-c]{2,4} "-" "x"{3} "y"{2,} "z"{,1})", byte_vocab());
  EXPECT_TRUE(matches_bytewise(g, "ab-xxxyy"));
  EXPECT_TRUE(matches_bytewise(g, "abca-xxxyyyyz"));
  EXPECT_FALSE(matches_bytewise(g, "a-xxxyy"));
  EXPECT_FALSE(matches_bytewise(g, "abcab-xxxyy"));
  EXPECT_FALSE(matches_bytewise(g, "ab-xxyy"));
  EXPECT_FALSE(matches_bytewise(g, "ab-xxxy"));
  EXPECT_FALSE(matches_bytewise(g, "ab-xxxyyzz"));
}

// Random vocabularies over a JSON-like alphabet, random walks; at every step the mask must equal
// the definition (oracle_set).
TEST(GrammarMatcher, MaskEqualsDefinitionOnRandomWalks) {
  const char* grammar = R"(root ::= ws value ws
value ::= object | array | string | number | "true" | "null"
object ::= "{" ws ( string ws ":" ws value ( ws "," ws string ws ":" ws value )* )? ws "}"
array ::= "[" ws ( value ( ws "," ws value )* )? ws "]"
string ::= "\"" ( [^"\\\x00-\x1F] | "\\" ["\\nt] )* "\""
number ::= "-"? [0-9]+ ( "." [0-9]+ )?
ws ::= [ \n]{0,2})";
  const std::vector<std::string> pieces = {"{", "}", "[", "]", "\"", ":", ",", " ", "\n", "a", "b", "1", "0", "-",
                                           ".", "\\", "n", "t", "true", "null", "\xC3", "\xA9", "\xE4\xB8"};
  std::mt19937 rng(7);
  for (int trial = 0; trial < 6; ++trial) {
    std::set<std::string> texts;
    for (const auto& p : pieces) texts.insert(p);
    while (texts.size() < 120) {
      std::string t;
      const int n = 2 + static_cast<int>(rng() % 4);
      for (int k = 0; k < n; ++k) t += pieces[rng() % pieces.size()];
      texts.insert(t);
    }
    auto vocab = make_vocab(std::vector<std::string>(texts.begin(), texts.end()));
    auto g = compile_gbnf(grammar, vocab);
    ASSERT_TRUE(g);
    GrammarMatcher m(g);
    std::string text;
    for (int step = 0; step < 40; ++step) {
      const auto got = allowed_set(m, vocab->size());
      const auto want = oracle_set(g, text);
      ASSERT_EQ(got, want) << "trial " << trial << " after \"" << text << "\"";
      if (got.empty() || m.is_finished()) break;
      std::vector<TokenId> choices(got.begin(), got.end());
      const TokenId pick = choices[rng() % choices.size()];
      ASSERT_TRUE(m.accept_token(pick).ok());
      if (vocab->is_eog(pick)) break;
      text += vocab->bytes(pick);
    }
  }
}

// Counted repetitions (whose unrolled states share analyses) and tokens longer than the analysis
// depth, against the definition.
TEST(GrammarMatcher, MaskEqualsDefinitionWithLongTokensAndCountedRepetition) {
  const char* grammar = R"(root ::= "[" item ( "," item ){0,6} "]"
item ::= "\"" [a-c]{0,40} "\"" | word "@" word
word ::= [a-c]+ ( "." [a-c]+ )*)";
  const std::vector<std::string> pieces = {"a", "b", "c", "\"", ",", "[", "]", "@", ".", "ab", "abc", "\",\""};
  std::mt19937 rng(21);
  for (int trial = 0; trial < 4; ++trial) {
    std::set<std::string> texts;
    for (const auto& p : pieces) texts.insert(p);
    while (texts.size() < 150) {
      std::string t;
      // Lengths up to ~60 bytes: beyond GrammarAutomaton::kAnalysisDepth.
      const int n = 1 + static_cast<int>(rng() % 30);
      for (int k = 0; k < n; ++k) t += pieces[rng() % pieces.size()];
      texts.insert(t);
    }
    texts.insert(std::string(30, 'a'));
    texts.insert(std::string(45, 'b'));
    texts.insert("\"" + std::string(38, 'c') + "\",\"");
    auto vocab = make_vocab(std::vector<std::string>(texts.begin(), texts.end()));
    auto g = compile_gbnf(grammar, vocab);
    ASSERT_TRUE(g);
    EXPECT_LT(g->automaton().num_analysis_classes(), g->automaton().num_states());
    GrammarMatcher m(g);
    std::string text;
    for (int step = 0; step < 60; ++step) {
      const auto got = allowed_set(m, vocab->size());
      ASSERT_EQ(got, oracle_set(g, text)) << "trial " << trial << " after \"" << text << "\"";
      if (got.empty() || m.is_finished()) break;
      std::vector<TokenId> choices(got.begin(), got.end());
      // Prefer long tokens to reach deep into the repetitions.
      TokenId pick = choices[rng() % choices.size()];
      for (int k = 0; k < 3; ++k) {
        const TokenId other = choices[rng() % choices.size()];
        if (!vocab->is_eog(other) && vocab->bytes(other).size() > vocab->bytes(pick).size()) pick = other;
      }
      ASSERT_TRUE(m.accept_token(pick).ok());
      if (vocab->is_eog(pick)) break;
      text += vocab->bytes(pick);
    }
  }
}

}  // namespace
}  // namespace inferd::engine
