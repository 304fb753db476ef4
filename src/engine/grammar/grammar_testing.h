// Test helpers for grammar matching: small vocabularies built directly and one-call matching.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "engine/grammar/compiled_grammar.h"
#include "engine/grammar/gbnf_parser.h"
#include "engine/grammar/grammar_matcher.h"
#include "engine/grammar/grammar_vocab.h"

namespace inferd::engine::testing {

// Ordinary tokens `texts` (ids 0..n-1), then `specials` (control tokens), then one EOG token
// "</s>".
inline std::shared_ptr<const GrammarVocab> make_vocab(const std::vector<std::string>& texts,
                                                      const std::vector<std::string>& specials = {}) {
  std::vector<VocabToken> tokens;
  for (const std::string& t : texts) tokens.push_back({t, false, false});
  for (const std::string& t : specials) tokens.push_back({t, true, false});
  tokens.push_back({"</s>", true, true});
  return std::make_shared<const GrammarVocab>(std::move(tokens));
}

// Every single byte as a token (id == byte value), then EOG (id 256).
inline std::shared_ptr<const GrammarVocab> byte_vocab() {
  std::vector<std::string> texts;
  for (int b = 0; b < 256; ++b) texts.push_back(std::string(1, static_cast<char>(b)));
  return make_vocab(texts);
}

inline std::shared_ptr<const CompiledGrammar> compile_gbnf(std::string_view text,
                                                          std::shared_ptr<const GrammarVocab> vocab) {
  auto g = parse_gbnf(text);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return nullptr;
  auto c = CompiledGrammar::compile(*g, std::move(vocab));
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? *c : nullptr;
}

// Feeds `text` byte by byte as tokens of byte_vocab(), checking that the mask allows each one
// first; true iff every byte is allowed and the text is complete at the end.
inline bool matches_bytewise(const std::shared_ptr<const CompiledGrammar>& grammar, std::string_view text) {
  GrammarMatcher m(grammar);
  for (char c : text) {
    const auto id = static_cast<TokenId>(static_cast<uint8_t>(c));
    const bool allowed = m.is_allowed(id);
    const bool accepted = m.accept_token(id).ok();
    EXPECT_EQ(allowed, accepted) << "mask and accept_token disagree";
    if (!accepted) return false;
  }
  return m.can_terminate() && m.is_allowed(256);
}

}  // namespace inferd::engine::testing
