#include "engine/grammar/grammar_constraint.h"

#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "engine/grammar/grammar_testing.h"

namespace inferd::engine {
namespace {

using testing::compile_gbnf;
using testing::make_vocab;

std::set<TokenId> allowed(TokenConstraint& c, size_t num_logits) {
  std::vector<float> logits(num_logits, 0.5f);
  c.apply(logits);
  std::set<TokenId> out;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isinf(logits[i])) {
      EXPECT_LT(logits[i], 0.0f);
    } else {
      EXPECT_EQ(logits[i], 0.5f) << "allowed logits are left alone";
      out.insert(static_cast<TokenId>(i));
    }
  }
  return out;
}

// Vocabulary: 0 "a", 1 "b", 2 "ab", 3 "x", 4 EOG "</s>".
std::unique_ptr<TokenConstraint> ab_constraint() {
  return std::make_unique<GrammarConstraint>(
      compile_gbnf(R"(root ::= "a" "b"?)", make_vocab({"a", "b", "ab", "x"})));
}

TEST(GrammarConstraint, EogAllowedExactlyWhenComplete) {
  auto c = ab_constraint();
  EXPECT_EQ(allowed(*c, 5), (std::set<TokenId>{0, 2}));
  EXPECT_FALSE(c->is_finished());
  ASSERT_TRUE(c->accept(0).ok());
  EXPECT_EQ(allowed(*c, 5), (std::set<TokenId>{1, 4})) << "\"a\" is complete: EOG or \"b\"";
  EXPECT_FALSE(c->is_finished());
  ASSERT_TRUE(c->accept(1).ok());
  EXPECT_TRUE(c->is_finished()) << "nothing may follow \"ab\"";
  EXPECT_EQ(allowed(*c, 5), (std::set<TokenId>{4}));
  ASSERT_TRUE(c->accept(4).ok());
  EXPECT_TRUE(c->is_finished());
  EXPECT_FALSE(c->accept(0).ok()) << "nothing after end-of-generation";
}

TEST(GrammarConstraint, RejectedTokensLeaveTheStateUnchanged) {
  auto c = ab_constraint();
  const Status st = c->accept(3);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(c->accept(4).ok()) << "EOG before the output is complete";
  EXPECT_FALSE(c->accept(-1).ok());
  EXPECT_FALSE(c->accept(5).ok()) << "outside the vocabulary";
  EXPECT_EQ(allowed(*c, 5), (std::set<TokenId>{0, 2}));
  ASSERT_TRUE(c->accept(2).ok());
  EXPECT_TRUE(c->is_finished());
}

TEST(GrammarConstraint, PaddedLogitsAreMasked) {
  auto c = ab_constraint();
  EXPECT_EQ(allowed(*c, 64), (std::set<TokenId>{0, 2})) << "rows past the vocabulary never win";
  EXPECT_EQ(allowed(*c, 3), (std::set<TokenId>{0, 2})) << "fewer logits than tokens";
}

TEST(GrammarConstraint, OneCompiledGrammarServesManyConstraints) {
  auto g = compile_gbnf(R"(root ::= [a-b]+)", make_vocab({"a", "b", "ab", "x"}));
  GrammarConstraint first(g), second(g);
  ASSERT_TRUE(first.accept(2).ok());
  EXPECT_EQ(allowed(second, 5), (std::set<TokenId>{0, 1, 2})) << "constraints have their own state";
  EXPECT_EQ(allowed(first, 5), (std::set<TokenId>{0, 1, 2, 4}));
}

}  // namespace
}  // namespace inferd::engine
