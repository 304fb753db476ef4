#include "engine/grammar/compiled_grammar.h"

namespace inferd::engine {

Result<std::shared_ptr<const CompiledGrammar>> CompiledGrammar::create(
    std::shared_ptr<const GrammarAutomaton> automaton, std::shared_ptr<const GrammarVocab> vocab) {
  std::vector<TokenId> slot_tokens;
  for (const TokenRef& ref : automaton->token_refs()) {
    if (ref.id >= 0) {
      if (ref.id >= vocab->size())
        return invalid_argument("grammar names token id {}, but the vocabulary has {} tokens", ref.id,
                                vocab->size());
      slot_tokens.push_back(ref.id);
      continue;
    }
    const TokenId id = vocab->find(ref.text);
    if (id < 0) return invalid_argument("grammar names token \"{}\", which the vocabulary lacks", ref.text);
    slot_tokens.push_back(id);
  }
  return std::make_shared<const CompiledGrammar>(std::move(automaton), std::move(vocab),
                                                 std::move(slot_tokens));
}

Result<std::shared_ptr<const CompiledGrammar>> CompiledGrammar::compile(
    const Grammar& grammar, std::shared_ptr<const GrammarVocab> vocab, const AutomatonOptions& options) {
  INFERD_ASSIGN_OR_RETURN(auto automaton, GrammarAutomaton::build(grammar, options));
  return create(std::move(automaton), std::move(vocab));
}

CompiledGrammar::CompiledGrammar(std::shared_ptr<const GrammarAutomaton> automaton,
                                 std::shared_ptr<const GrammarVocab> vocab,
                                 std::vector<TokenId> slot_tokens)
    : automaton_(std::move(automaton)),
      vocab_(std::move(vocab)),
      slot_tokens_(std::move(slot_tokens)),
      cache_(new std::atomic<const StateTokens*>[static_cast<size_t>(automaton_->num_analysis_classes())]) {
  for (int32_t c = 0; c < automaton_->num_analysis_classes(); ++c)
    cache_[static_cast<size_t>(c)].store(nullptr, std::memory_order_relaxed);
}

CompiledGrammar::~CompiledGrammar() {
  for (int32_t c = 0; c < automaton_->num_analysis_classes(); ++c)
    delete cache_[static_cast<size_t>(c)].load(std::memory_order_relaxed);
}

const StateTokens& CompiledGrammar::state_tokens(int32_t state, TokenWalker& walker) const {
  std::atomic<const StateTokens*>& slot = cache_[static_cast<size_t>(automaton_->analysis_class(state))];
  const StateTokens* cached = slot.load(std::memory_order_acquire);
  if (cached) return *cached;
  auto fresh = std::make_unique<StateTokens>(walker.analyse_state(state));
  const StateTokens* expected = nullptr;
  if (slot.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel)) {
    num_cached_.fetch_add(1, std::memory_order_relaxed);
    cache_bytes_.fetch_add(fresh->memory_bytes(), std::memory_order_relaxed);
    return *fresh.release();
  }
  return *expected;  // another thread published first
}

void CompiledGrammar::precompute() const {
  StackPool pool;
  TokenWalker walker(*automaton_, *vocab_, pool);
  for (int32_t s = 0; s < automaton_->num_states(); ++s)
    if (automaton_->flags(s) & GrammarAutomaton::kHasBytes) state_tokens(s, walker);  // once per class
}

}  // namespace inferd::engine
