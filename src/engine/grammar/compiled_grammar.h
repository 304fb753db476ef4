// CompiledGrammar: a GrammarAutomaton bound to a GrammarVocab: token elements resolved to ids,
// and a cache of the token analysis (StateTokens) per analysis class of states, filled on first
// use.
//
// Shared by all requests that use the same grammar with the same vocabulary (a server may keep
// them by grammar text). Thread-safe: the cache is filled lock-free; two threads analysing the
// same state at once both compute it and one result is kept.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "base/status.h"
#include "engine/grammar/grammar.h"
#include "engine/grammar/grammar_automaton.h"
#include "engine/grammar/grammar_vocab.h"
#include "engine/grammar/token_walker.h"

namespace inferd::engine {

class CompiledGrammar {
 public:
  // Errors: a token element whose text no token has, or whose id is outside the vocabulary.
  static Result<std::shared_ptr<const CompiledGrammar>> create(
      std::shared_ptr<const GrammarAutomaton> automaton, std::shared_ptr<const GrammarVocab> vocab);
  // GrammarAutomaton::build() then create().
  static Result<std::shared_ptr<const CompiledGrammar>> compile(
      const Grammar& grammar, std::shared_ptr<const GrammarVocab> vocab,
      const AutomatonOptions& options = {});

  CompiledGrammar(std::shared_ptr<const GrammarAutomaton> automaton,
                  std::shared_ptr<const GrammarVocab> vocab, std::vector<TokenId> slot_tokens);
  ~CompiledGrammar();
  CompiledGrammar(const CompiledGrammar&) = delete;
  CompiledGrammar& operator=(const CompiledGrammar&) = delete;

  const GrammarAutomaton& automaton() const { return *automaton_; }
  const GrammarVocab& vocab() const { return *vocab_; }
  // The token of each token slot of the automaton.
  const std::vector<TokenId>& slot_tokens() const { return slot_tokens_; }

  // The analysis of `state`, computed with `walker` (which must be for this grammar) the first
  // time any caller asks. The reference stays valid as long as this object.
  const StateTokens& state_tokens(int32_t state, TokenWalker& walker) const;
  // Analyses every state with byte transitions now instead of on first use.
  void precompute() const;

  size_t num_cached_states() const { return num_cached_.load(std::memory_order_relaxed); }
  size_t cache_memory_bytes() const { return cache_bytes_.load(std::memory_order_relaxed); }

 private:
  std::shared_ptr<const GrammarAutomaton> automaton_;
  std::shared_ptr<const GrammarVocab> vocab_;
  std::vector<TokenId> slot_tokens_;
  std::unique_ptr<std::atomic<const StateTokens*>[]> cache_;
  mutable std::atomic<size_t> num_cached_{0};
  mutable std::atomic<size_t> cache_bytes_{0};
};

}  // namespace inferd::engine
