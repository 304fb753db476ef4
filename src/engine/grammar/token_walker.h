// TokenWalker: decides which vocabulary tokens an automaton state can consume, by walking the
// vocabulary's TokenTrie with the set of parses and pruning every subtree whose prefix is
// rejected.
//
// A state is first analysed on its own (analyse_state), with an unknown stack below it: tokens it
// consumes entirely inside its own rule (and the rules that rule calls) are accepted whatever the
// stack; tokens that need the rule to end and the stack below to continue are "uncertain"; all
// others are rejected whatever the stack. The result (StateTokens) depends on the state only and
// is cached per compiled grammar. At run time the uncertain tokens alone are walked with the
// real stack (walk_uncertain).
//
// One walker per thread (it owns scratch space); no allocation once its buffers have grown.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/grammar/grammar_automaton.h"
#include "engine/grammar/grammar_vocab.h"
#include "engine/grammar/pda_runner.h"
#include "engine/grammar/stack_pool.h"

namespace inferd::engine {

// What one state accepts regardless of the stack below it. The state's own end of rule is not
// considered here: a parse set always holds the continuation of a rule that may end as parses of
// their own.
struct StateTokens {
  // Accepted tokens: a bitset by token id when there are many, else sorted ids.
  std::vector<uint64_t> accepted_bits;
  std::vector<TokenId> accepted_ids;
  // Tokens that depend on the stack: trie-order positions (ascending), and for each the length of
  // its common byte prefix with the previous one.
  std::vector<uint32_t> uncertain;
  std::vector<uint16_t> uncertain_lcp;

  size_t memory_bytes() const {
    return accepted_bits.size() * 8 + accepted_ids.size() * 4 + uncertain.size() * 6;
  }
};

class TokenWalker {
 public:
  // `pool` holds the stacks of the parses given to walk_uncertain (the matcher's pool).
  TokenWalker(const GrammarAutomaton& automaton, const GrammarVocab& vocab, StackPool& pool);

  // The StateTokens of `state` (REQUIRES: 0 <= state < num_states()).
  StateTokens analyse_state(int32_t state);

  // Sets in `bits` (one bit per token id) every token of `tokens.uncertain` that the parse
  // `stack` can consume; tokens whose bit is already set are skipped.
  void walk_uncertain(const StateTokens& tokens, PdaStack stack, std::span<uint64_t> bits);

  PdaRunner& runner() { return runner_; }

 private:
  // Level d + 1 from level d by `byte`; returns step flags.
  uint8_t step_level(PdaRunner& runner, size_t d, uint8_t byte);
  bool level_empty(size_t d) const { return !single_[d] && levels_[d].empty(); }
  void set_level(size_t d, PdaStack s) {
    single_[d] = 1;
    one_[d] = s;
  }

  const GrammarAutomaton& a_;
  const GrammarVocab& vocab_;
  StackPool local_pool_;
  PdaRunner local_runner_;
  PdaRunner runner_;
  // The parse set after d bytes of the current path: one_[d] when single_[d] (the common case,
  // kept out of the vectors), else levels_[d].
  std::vector<std::vector<PdaStack>> levels_;
  std::vector<PdaStack> one_;
  std::vector<uint8_t> single_;
  std::vector<uint8_t> exit_on_path_;  // a rule ended onto the unknown stack by depth d
};

}  // namespace inferd::engine
