#include "engine/grammar/grammar_constraint.h"

namespace inferd::engine {

GrammarConstraint::GrammarConstraint(std::shared_ptr<const CompiledGrammar> grammar)
    : matcher_(std::move(grammar)) {}

void GrammarConstraint::apply(std::span<float> logits) {
  matcher_.fill_allowed(logits);
}

Status GrammarConstraint::accept(TokenId token) {
  return matcher_.accept_token(token);
}

bool GrammarConstraint::is_finished() const {
  return matcher_.is_finished();
}

}  // namespace inferd::engine
