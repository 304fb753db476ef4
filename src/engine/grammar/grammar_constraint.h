// GrammarConstraint: the TokenConstraint (include/inferd/token_constraint.h) of one request whose
// output must follow a CompiledGrammar. A thin adapter over GrammarMatcher: apply() masks the
// tokens the grammar does not allow next (end-of-generation tokens are allowed exactly when the
// output is complete), accept() follows the chosen token, is_finished() says nothing but
// end-of-generation may follow.
//
// Creating one is cheap (the vocabulary analysis lives in the shared CompiledGrammar); the
// factories in include/inferd/structured_output.h build them from a Model with cached grammars.
// Thread safety: one request on one engine thread; the CompiledGrammar may be shared.
#pragma once

#include <memory>
#include <span>

#include "engine/grammar/compiled_grammar.h"
#include "engine/grammar/grammar_matcher.h"
#include "inferd/token_constraint.h"

namespace inferd::engine {

class GrammarConstraint final : public TokenConstraint {
 public:
  explicit GrammarConstraint(std::shared_ptr<const CompiledGrammar> grammar);

  // Logits past the grammar's vocabulary (padded output rows) are masked too.
  void apply(std::span<float> logits) override;
  // Errors (state unchanged): a token the grammar does not allow now, an id outside the
  // vocabulary, any token after end-of-generation.
  Status accept(TokenId token) override;
  bool is_finished() const override;

  const GrammarMatcher& matcher() const { return matcher_; }

 private:
  GrammarMatcher matcher_;
};

}  // namespace inferd::engine
