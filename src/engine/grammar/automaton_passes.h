// Passes over a built GrammarAutomaton that precompute what matching needs: each rule's fixed
// return state, each state's shortest completion, and the analysis classes of states.
#pragma once

#include "engine/grammar/grammar_automaton.h"

namespace inferd::engine {

class AutomatonPasses {
 public:
  // All passes, in order. REQUIRES: transitions, flags and rule numbering are final.
  static void run(GrammarAutomaton& a) {
    compute_fixed_returns(a);
    compute_completions(a);
    compute_analysis_classes(a);
  }

 private:
  static void compute_fixed_returns(GrammarAutomaton& a);
  static void compute_completions(GrammarAutomaton& a);
  static void compute_analysis_classes(GrammarAutomaton& a);
};

}  // namespace inferd::engine
