// PdaRunner: moves sets of parses (PdaStack) through a GrammarAutomaton. A set holds only parses
// whose state has a byte or token transition ("live tops"); calls are entered and finished rules
// returned from eagerly (the closure), and what that closure meets at the bottom of a stack is
// reported as flags instead of parses.
//
// One runner per thread; it owns scratch space and uses the StackPool it is given for pushes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/grammar/grammar_automaton.h"
#include "engine/grammar/stack_pool.h"

namespace inferd::engine {

// Outcome flags of a closure or step.
inline constexpr uint8_t kStepAccept = 1;    // the root rule ended with nothing below: text complete
inline constexpr uint8_t kStepExit = 2;      // a rule ended onto kBaseStack
inline constexpr uint8_t kStepOverflow = 4;  // the set grew past PdaRunner::kMaxStacks (parses lost)

class PdaRunner {
 public:
  // More parses than this in one set is treated as a failure (an extremely ambiguous grammar).
  static constexpr size_t kMaxStacks = 4096;

  PdaRunner(const GrammarAutomaton& automaton, StackPool& pool);

  // Starts a new output set: forgets which parses were already added.
  void begin_set();
  // Adds the closure of (state, parent) to `out`, skipping parses already added since
  // begin_set(). Returns step flags.
  uint8_t close(int32_t state, int32_t parent, std::vector<PdaStack>& out);
  // The set reached from `in` by one byte, appended to `out` (begin_set() is called).
  // REQUIRES for both steps: `in` does not lie in `out`.
  uint8_t step_byte(std::span<const PdaStack> in, uint8_t byte, std::vector<PdaStack>& out);
  // The set reached from `in` by a token transition of `slot`, appended to `out`.
  uint8_t step_token_slot(std::span<const PdaStack> in, int32_t slot, std::vector<PdaStack>& out);

  const GrammarAutomaton& automaton() const { return a_; }
  StackPool& pool() { return pool_; }

 private:
  bool mark_visited(int32_t state, int32_t parent);

  const GrammarAutomaton& a_;
  StackPool& pool_;
  std::vector<PdaStack> work_;
  // Open-addressing set of visited (state, parent) keys, valid where stamp == generation_.
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> stamps_;
  uint32_t generation_ = 1;
  size_t visited_count_ = 0;
};

}  // namespace inferd::engine
