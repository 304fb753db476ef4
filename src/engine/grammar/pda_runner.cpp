#include "engine/grammar/pda_runner.h"

#include <algorithm>

namespace inferd::engine {
namespace {

inline uint64_t key_of(int32_t state, int32_t parent) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(state)) << 32) | static_cast<uint32_t>(parent);
}

inline size_t hash_key(uint64_t k) {
  k ^= k >> 31;
  k *= 0x9E3779B97F4A7C15ULL;
  k ^= k >> 29;
  return static_cast<size_t>(k);
}

}  // namespace

PdaRunner::PdaRunner(const GrammarAutomaton& automaton, StackPool& pool)
    : a_(automaton), pool_(pool), keys_(64), stamps_(64, 0) {
  work_.reserve(64);
}

void PdaRunner::begin_set() {
  ++generation_;
  visited_count_ = 0;
  if (generation_ == 0) {  // wrapped: stale stamps could match
    std::fill(stamps_.begin(), stamps_.end(), 0);
    generation_ = 1;
  }
}

bool PdaRunner::mark_visited(int32_t state, int32_t parent) {
  if ((visited_count_ + 1) * 2 > keys_.size()) {
    // Grow, keeping the current generation's keys.
    std::vector<uint64_t> old_keys = std::move(keys_);
    std::vector<uint32_t> old_stamps = std::move(stamps_);
    keys_.assign(old_keys.size() * 2, 0);
    stamps_.assign(old_keys.size() * 2, 0);
    const size_t mask = keys_.size() - 1;
    for (size_t i = 0; i < old_keys.size(); ++i) {
      if (old_stamps[i] != generation_) continue;
      size_t slot = hash_key(old_keys[i]) & mask;
      while (stamps_[slot] == generation_) slot = (slot + 1) & mask;
      keys_[slot] = old_keys[i];
      stamps_[slot] = generation_;
    }
  }
  const uint64_t k = key_of(state, parent);
  const size_t mask = keys_.size() - 1;
  size_t slot = hash_key(k) & mask;
  while (stamps_[slot] == generation_) {
    if (keys_[slot] == k) return false;
    slot = (slot + 1) & mask;
  }
  keys_[slot] = k;
  stamps_[slot] = generation_;
  ++visited_count_;
  return true;
}

uint8_t PdaRunner::close(int32_t state, int32_t parent, std::vector<PdaStack>& out) {
  uint8_t result = 0;
  work_.clear();
  work_.push_back({state, parent});
  while (!work_.empty()) {
    const PdaStack cur = work_.back();
    work_.pop_back();
    if (!mark_visited(cur.state, cur.parent)) continue;
    const uint8_t f = a_.flags(cur.state);
    if (f & (GrammarAutomaton::kHasBytes | GrammarAutomaton::kHasTokens)) {
      if (out.size() >= kMaxStacks) return result | kStepOverflow;
      out.push_back(cur);
    }
    if (f & GrammarAutomaton::kHasCalls) {
      for (const CallEdge& call : a_.calls(cur.state)) {
        // A return into a state with nothing left to do is skipped (tail call), which keeps
        // right-recursive rules at constant stack depth.
        const int32_t below = (a_.flags(call.return_state) & GrammarAutomaton::kTriviallyFinal)
                                  ? cur.parent
                                  : pool_.push(call.return_state, cur.parent);
        work_.push_back({call.callee_start, below});
      }
    }
    if (f & GrammarAutomaton::kFinal) {
      if (cur.parent == kEmptyStack) {
        result |= kStepAccept;
      } else if (cur.parent == kBaseStack) {
        result |= kStepExit;
      } else {
        const StackPool::Node& n = pool_.node(cur.parent);
        work_.push_back({n.return_state, n.parent});
      }
    }
  }
  return result;
}

uint8_t PdaRunner::step_byte(std::span<const PdaStack> in, uint8_t byte, std::vector<PdaStack>& out) {
  begin_set();
  uint8_t flags = 0;
  for (const PdaStack& s : in) {
    const int32_t t = a_.next(s.state, byte);
    if (t >= 0) flags |= close(t, s.parent, out);
  }
  return flags;
}

uint8_t PdaRunner::step_token_slot(std::span<const PdaStack> in, int32_t slot,
                                   std::vector<PdaStack>& out) {
  begin_set();
  uint8_t flags = 0;
  for (const PdaStack& s : in) {
    if (!(a_.flags(s.state) & GrammarAutomaton::kHasTokens)) continue;
    for (const TokenEdge& e : a_.tokens(s.state))
      if (e.slot == slot) flags |= close(e.target, s.parent, out);
  }
  return flags;
}

}  // namespace inferd::engine
