// GrammarAutomaton: a Grammar compiled for matching, as a pushdown automaton over bytes. Each
// non-inlined rule becomes a deterministic automaton over bytes whose other transitions are
// "call rule R, then continue at state r" and "one vocabulary token"; all rules share one state
// numbering. A parse is a stack of return states below a current state (see PdaStack).
//
// Built once per grammar, independent of any vocabulary (tokens are referred to by slot, see
// token_refs()), immutable afterwards and safe to share between threads.
//
// Guarantees after build():
// - Every state can reach the end of its rule (dead states and the edges into them are removed),
//   so every prefix the automaton accepts can be completed.
// - No rule can reach itself without consuming input (left recursion is an error).
// - Small non-recursive rules are inlined into their callers (see AutomatonOptions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/grammar/grammar.h"

namespace inferd::engine {

// A call transition: enter the rule that starts at `callee_start`; when it ends, continue at
// `return_state`.
struct CallEdge {
  int32_t callee_start = -1;
  int32_t return_state = -1;
};

// A transition on one vocabulary token (a kToken element), identified by its slot in
// GrammarAutomaton::token_refs().
struct TokenEdge {
  int32_t slot = -1;
  int32_t target = -1;
};

// What a kToken element names: a token text or an id (>= 0).
struct TokenRef {
  std::string text;
  int32_t id = -1;
  bool operator==(const TokenRef&) const = default;
};

struct AutomatonOptions {
  // Upper bounds on automaton states (and on the construction's intermediate states, twice as
  // many) and on the transition table; larger grammars are an error.
  int32_t max_states = 1 << 18;
  size_t max_table_bytes = size_t{64} << 20;
  // Rules without recursion whose automaton has at most this many states are inlined into their
  // callers: inline_max_states for rules without unbounded loops, inline_loop_max_states for
  // rules with one. (A larger rule with a loop, such as a JSON string, stays one shared rule so
  // that its states are analysed once for all callers.)
  int32_t inline_max_states = 64;
  int32_t inline_loop_max_states = 24;
};

class GrammarAutomaton {
 public:
  // State flags.
  static constexpr uint8_t kFinal = 1;        // its rule may end here
  static constexpr uint8_t kHasBytes = 2;     // has at least one byte transition
  static constexpr uint8_t kHasCalls = 4;     // has call transitions
  static constexpr uint8_t kHasTokens = 8;    // has token transitions
  // Entering the state needs no closure: not final and no calls (a byte step stays on it).
  static constexpr uint8_t kSimple = 16;
  // Final without any transition: returning into it is the same as returning past it.
  static constexpr uint8_t kTriviallyFinal = 32;

  static constexpr int32_t kNoState = -1;

  // Errors: grammar validation errors, left recursion (naming the rules of the cycle), a root
  // that matches no complete text, a grammar above options.max_states.
  static Result<std::shared_ptr<const GrammarAutomaton>> build(const Grammar& grammar,
                                                               const AutomatonOptions& options = {});

  int32_t num_states() const { return static_cast<int32_t>(flags_.size()); }
  int32_t start_state() const { return start_; }
  // What every parse at `state` has directly below it, when the grammar fixes it: the one state
  // its rule always returns to (its rule is called from one place only), kBottom when nothing is
  // below (the root rule, never called), kNoState when it depends on the parse.
  static constexpr int32_t kBottom = -2;

  // Token analysis looks this many bytes deep; longer tokens are checked against the full parse
  // at run time (vocabularies have few of them).
  static constexpr int32_t kAnalysisDepth = 24;
  // States with the same analysis class behave identically for every byte string of at most
  // kAnalysisDepth bytes (same rule, flags, call and token transitions, and byte transitions
  // into states of equal classes, to that depth), so one token analysis serves them all. This
  // matters for counted repetitions, whose unrolled copies differ only near their end.
  int32_t analysis_class(int32_t state) const { return analysis_class_[static_cast<size_t>(state)]; }
  int32_t num_analysis_classes() const { return num_analysis_classes_; }
  int32_t fixed_return(int32_t state) const {
    return rule_return_[static_cast<size_t>(state_rule_[static_cast<size_t>(state)])];
  }
  // Target of the byte transition, or kNoState.
  int32_t next(int32_t state, uint8_t byte) const {
    return trans_[static_cast<size_t>(state) * num_classes_ + byte_class_[byte]];
  }
  uint8_t flags(int32_t state) const { return flags_[static_cast<size_t>(state)]; }
  bool is_final(int32_t state) const { return flags(state) & kFinal; }
  std::span<const CallEdge> calls(int32_t state) const {
    return {calls_.data() + call_begin_[static_cast<size_t>(state)],
            calls_.data() + call_begin_[static_cast<size_t>(state) + 1]};
  }
  std::span<const TokenEdge> tokens(int32_t state) const {
    return {tokens_.data() + token_begin_[static_cast<size_t>(state)],
            tokens_.data() + token_begin_[static_cast<size_t>(state) + 1]};
  }
  const std::vector<TokenRef>& token_refs() const { return token_refs_; }
  // The rule a state belongs to (for diagnostics).
  const std::string& rule_name(int32_t state) const {
    return rule_names_[static_cast<size_t>(state_rule_[static_cast<size_t>(state)])];
  }
  int32_t num_byte_classes() const { return num_classes_; }
  size_t memory_bytes() const;

  // Bytes in the shortest text from `state` to the end of its rule (byte transitions only),
  // kUnreachable when only token transitions lead there.
  static constexpr uint32_t kUnreachable = UINT32_MAX;
  uint32_t completion_bytes(int32_t state) const { return completion_[static_cast<size_t>(state)].bytes; }
  // Appends that shortest text to `out` (REQUIRES: completion_bytes(state) != kUnreachable).
  void append_completion(int32_t state, std::string& out) const;

 private:
  friend class AutomatonBuilder;
  friend class AutomatonPasses;

  int32_t start_ = kNoState;
  int32_t num_classes_ = 0;
  uint8_t byte_class_[256] = {};
  std::vector<int32_t> trans_;  // num_states * num_classes
  std::vector<uint8_t> flags_;
  std::vector<uint32_t> call_begin_;   // num_states + 1
  std::vector<CallEdge> calls_;
  std::vector<uint32_t> token_begin_;  // num_states + 1
  std::vector<TokenEdge> tokens_;
  std::vector<TokenRef> token_refs_;
  std::vector<int32_t> state_rule_;
  std::vector<std::string> rule_names_;
  std::vector<int32_t> rule_return_;  // per rule: see fixed_return()
  std::vector<int32_t> analysis_class_;
  int32_t num_analysis_classes_ = 0;
  // Shortest completion per state: length, then number of transitions (which breaks ties, so a
  // cheapest path never loops).
  struct Completion {
    uint32_t bytes;
    uint32_t steps;
    bool operator<(const Completion& o) const { return bytes != o.bytes ? bytes < o.bytes : steps < o.steps; }
    bool operator==(const Completion&) const = default;
  };
  std::vector<Completion> completion_;
  uint8_t class_byte_[256] = {};  // a representative byte of each class (printable when possible)
};

}  // namespace inferd::engine
