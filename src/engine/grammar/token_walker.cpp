#include "engine/grammar/token_walker.h"

#include <algorithm>

namespace inferd::engine {
namespace {

inline void set_bit(std::span<uint64_t> bits, TokenId id) {
  bits[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (static_cast<uint32_t>(id) & 63);
}

inline bool test_bit(std::span<const uint64_t> bits, TokenId id) {
  return (bits[static_cast<size_t>(id) >> 6] >> (static_cast<uint32_t>(id) & 63)) & 1;
}

}  // namespace

TokenWalker::TokenWalker(const GrammarAutomaton& automaton, const GrammarVocab& vocab,
                         StackPool& pool)
    : a_(automaton),
      vocab_(vocab),
      local_runner_(automaton, local_pool_),
      runner_(automaton, pool),
      levels_(vocab.trie().max_depth() + 1),
      one_(vocab.trie().max_depth() + 1),
      single_(vocab.trie().max_depth() + 1, 0),
      exit_on_path_(vocab.trie().max_depth() + 1, 0) {}

uint8_t TokenWalker::step_level(PdaRunner& runner, size_t d, uint8_t byte) {
  std::vector<PdaStack>& out = levels_[d + 1];
  out.clear();
  single_[d + 1] = 0;
  uint8_t flags;
  if (single_[d]) {
    // Most steps stay inside one rule: no closure, no vector.
    const PdaStack in = one_[d];
    const int32_t t = a_.next(in.state, byte);
    if (t < 0) return 0;
    if (a_.flags(t) & GrammarAutomaton::kSimple) {
      set_level(d + 1, {t, in.parent});
      return 0;
    }
    runner.begin_set();
    flags = runner.close(t, in.parent, out);
  } else {
    flags = runner.step_byte(levels_[d], byte, out);
  }
  if (out.size() == 1) {
    set_level(d + 1, out[0]);
    out.clear();
  }
  return flags;
}

StateTokens TokenWalker::analyse_state(int32_t state) {
  StateTokens result;
  if (!(a_.flags(state) & GrammarAutomaton::kHasBytes)) return result;
  local_pool_.clear();
  const TokenTrie& trie = vocab_.trie();
  const TokenTrie::Node* nodes = trie.nodes();
  const size_t n = trie.num_nodes();
  // Whatever the grammar fixes below the state is put below it; the rest is unknown (kBaseStack),
  // or nothing at all (then the analysis is exact).
  std::vector<int32_t> fixed;
  int32_t below = kBaseStack;
  for (int32_t s = state;;) {
    const int32_t r = a_.fixed_return(s);
    if (r == GrammarAutomaton::kBottom) {
      below = kEmptyStack;
      break;
    }
    if (r == GrammarAutomaton::kNoState || fixed.size() >= 64) break;
    fixed.push_back(r);
    s = r;
  }
  if (below == kBaseStack && fixed.size() >= 64) fixed.clear();
  for (size_t i = fixed.size(); i-- > 0;) below = local_pool_.push(fixed[i], below);
  set_level(0, {state, below});
  exit_on_path_[0] = 0;

  // Accepted and uncertain tokens as ranges of trie-order positions (found in ascending order).
  std::vector<std::pair<uint32_t, uint32_t>> accepted, uncertain;
  auto add = [](std::vector<std::pair<uint32_t, uint32_t>>& to, uint32_t begin, uint32_t end) {
    if (begin == end) return;
    if (!to.empty() && to.back().second == begin) {
      to.back().second = end;
    } else {
      to.push_back({begin, end});
    }
  };

  size_t i = 0;
  while (i < n) {
    const TokenTrie::Node& node = nodes[i];
    const size_t d = node.depth;
    uint8_t flags = step_level(local_runner_, d - 1, node.byte);
    if (flags & kStepOverflow) {
      levels_[d].clear();
      single_[d] = 0;
      flags = 0;
    }
    const bool exit_here = flags & kStepExit;
    exit_on_path_[d] = exit_on_path_[d - 1] | exit_here;
    if (level_empty(d)) {
      if (exit_here) {
        // The token ending here is consumed exactly when the rule ends; longer ones continue
        // below the rule.
        add(accepted, trie.first_token(i), trie.first_token(i + 1));
        add(uncertain, trie.first_token(i + 1), trie.first_token(node.end));
      } else if (flags & kStepAccept) {
        // The whole text ends here: nothing longer is possible.
        add(accepted, trie.first_token(i), trie.first_token(i + 1));
      } else if (exit_on_path_[d - 1]) {
        add(uncertain, trie.first_token(i), trie.first_token(node.end));
      }
      i = node.end;
      continue;
    }
    add(accepted, trie.first_token(i), trie.first_token(i + 1));
    if (d == static_cast<size_t>(GrammarAutomaton::kAnalysisDepth)) {
      // Deeper tokens are decided at run time (see GrammarAutomaton::analysis_class()).
      add(uncertain, trie.first_token(i + 1), trie.first_token(node.end));
      i = node.end;
      continue;
    }
    ++i;
  }

  const std::span<const TokenId> order = trie.order();
  size_t num_accepted = 0;
  for (const auto& [b, e] : accepted) num_accepted += e - b;
  const auto vocab_size = static_cast<size_t>(vocab_.size());
  if (num_accepted * 32 >= vocab_size) {
    result.accepted_bits.assign((vocab_size + 63) / 64, 0);
    for (const auto& [b, e] : accepted)
      for (uint32_t p = b; p < e; ++p) set_bit(result.accepted_bits, order[p]);
  } else {
    result.accepted_ids.reserve(num_accepted);
    for (const auto& [b, e] : accepted)
      for (uint32_t p = b; p < e; ++p) result.accepted_ids.push_back(order[p]);
    std::sort(result.accepted_ids.begin(), result.accepted_ids.end());
  }
  std::string_view prev;
  for (const auto& [b, e] : uncertain) {
    for (uint32_t p = b; p < e; ++p) {
      const std::string_view bytes = vocab_.bytes(order[p]);
      size_t lcp = 0;
      while (lcp < prev.size() && lcp < bytes.size() && prev[lcp] == bytes[lcp]) ++lcp;
      result.uncertain.push_back(p);
      result.uncertain_lcp.push_back(static_cast<uint16_t>(lcp));
      prev = bytes;
    }
  }
  local_pool_.clear();
  return result;
}

void TokenWalker::walk_uncertain(const StateTokens& tokens, PdaStack stack, std::span<uint64_t> bits) {
  if (tokens.uncertain.empty()) return;
  const std::span<const TokenId> order = vocab_.trie().order();
  set_level(0, stack);
  size_t valid = 0;  // levels_[0..valid] hold the parses after each prefix of the last token
  for (size_t k = 0; k < tokens.uncertain.size(); ++k) {
    const size_t lcp = tokens.uncertain_lcp[k];
    if (lcp > valid) continue;  // shares a prefix already rejected
    const TokenId id = order[tokens.uncertain[k]];
    if (test_bit(bits, id)) {
      valid = lcp;
      continue;
    }
    const std::string_view bytes = vocab_.bytes(id);
    size_t d = lcp;
    while (d < bytes.size()) {
      uint8_t flags = step_level(runner_, d, static_cast<uint8_t>(bytes[d]));
      if (flags & kStepOverflow) {
        levels_[d + 1].clear();
        single_[d + 1] = 0;
        flags = 0;
      }
      // A level with no parse left but a completed text still ends a token.
      if (level_empty(d + 1) && !(flags & kStepAccept)) break;
      ++d;
    }
    valid = d;
    if (d == bytes.size()) set_bit(bits, id);
  }
}

}  // namespace inferd::engine
