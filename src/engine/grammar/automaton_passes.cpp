#include "engine/grammar/automaton_passes.h"

#include <map>
#include <unordered_map>
#include <vector>

#include "base/check.h"

namespace inferd::engine {

// For each rule, the return state every call of it pushes (following tail calls to the
// caller's own fixed return), kBottom for an uncalled root, kNoState when calls differ.
void AutomatonPasses::compute_fixed_returns(GrammarAutomaton& a) {
  constexpr int32_t kUnset = -3, kBusy = -4;
  const size_t n = a.rule_names_.size();
  std::vector<std::vector<std::pair<int32_t, int32_t>>> callers(n);  // rule -> (caller state, return)
  for (int32_t s = 0; s < a.num_states(); ++s)
    for (const CallEdge& e : a.calls(s))
      callers[static_cast<size_t>(a.state_rule_[static_cast<size_t>(e.callee_start)])].push_back({s, e.return_state});
  std::vector<int32_t>& out = a.rule_return_;
  out.assign(n, kUnset);
  auto resolve = [&](auto&& self, size_t r) -> int32_t {
    if (out[r] == kBusy) return GrammarAutomaton::kNoState;  // recursion: not fixed
    if (out[r] != kUnset) return out[r];
    out[r] = kBusy;
    int32_t result = kUnset;
    if (r == 0) result = GrammarAutomaton::kBottom;  // the root is entered from nothing
    for (const auto& [caller, ret] : callers[r]) {
      const bool tail = a.flags_[static_cast<size_t>(ret)] & GrammarAutomaton::kTriviallyFinal;
      const int32_t cont = tail ? self(self, static_cast<size_t>(a.state_rule_[static_cast<size_t>(caller)])) : ret;
      if (result == kUnset) {
        result = cont;
      } else if (result != cont) {
        result = GrammarAutomaton::kNoState;
      }
      if (result == GrammarAutomaton::kNoState) break;
    }
    out[r] = result == kUnset ? GrammarAutomaton::kNoState : result;
    return out[r];
  };
  for (size_t r = 0; r < n; ++r) resolve(resolve, r);
}

// Partition refinement (Moore) for kAnalysisDepth rounds: round 0 separates states by rule,
// flags, call and token transitions; each round separates states whose byte transitions lead
// to different classes. Singleton classes never split again and are skipped.
void AutomatonPasses::compute_analysis_classes(GrammarAutomaton& a) {
  const size_t num = static_cast<size_t>(a.num_states());
  const auto ncls = static_cast<size_t>(a.num_classes_);
  std::vector<int32_t> cls(num);
  int32_t num_classes = 0;
  {
    std::map<std::vector<int32_t>, int32_t> ids;
    std::vector<int32_t> key;
    for (size_t s = 0; s < num; ++s) {
      key.assign({a.state_rule_[s], a.flags_[s]});
      for (const CallEdge& e : a.calls(static_cast<int32_t>(s))) key.insert(key.end(), {e.callee_start, e.return_state});
      key.push_back(-1);
      for (const TokenEdge& e : a.tokens(static_cast<int32_t>(s))) key.insert(key.end(), {e.slot, e.target});
      cls[s] = ids.emplace(key, static_cast<int32_t>(ids.size())).first->second;
    }
    num_classes = static_cast<int32_t>(ids.size());
  }
  // Byte transitions as runs of consecutive classes with one target, and per round the
  // signature: runs of equal target class.
  std::vector<uint32_t> run_begin(num + 1, 0);
  std::vector<std::pair<int32_t, int32_t>> runs;  // (first byte class, target)
  for (size_t s = 0; s < num; ++s) {
    run_begin[s] = static_cast<uint32_t>(runs.size());
    for (size_t k = 0; k < ncls; ++k) {
      const int32_t t = a.trans_[s * ncls + k];
      if (k == 0 || t != runs.back().second) runs.push_back({static_cast<int32_t>(k), t});
    }
  }
  run_begin[num] = static_cast<uint32_t>(runs.size());
  std::vector<int32_t> sig_a, sig_b;
  auto signature = [&](size_t s, std::vector<int32_t>& out) {
    out.clear();
    out.push_back(cls[s]);
    int32_t last = -2;
    for (uint32_t i = run_begin[s]; i < run_begin[s + 1]; ++i) {
      const int32_t t = runs[i].second;
      const int32_t c = t < 0 ? -1 : cls[static_cast<size_t>(t)];
      if (c == last) continue;
      out.push_back(runs[i].first);
      out.push_back(c);
      last = c;
    }
  };
  std::vector<int32_t> members(static_cast<size_t>(num_classes)), next(num);
  std::unordered_map<uint64_t, std::vector<int32_t>> reps;
  for (int32_t round = 0; round < GrammarAutomaton::kAnalysisDepth; ++round) {
    members.assign(static_cast<size_t>(num_classes), 0);
    for (size_t s = 0; s < num; ++s) ++members[static_cast<size_t>(cls[s])];
    reps.clear();
    int32_t num_next = 0;
    for (size_t s = 0; s < num; ++s) {
      if (members[static_cast<size_t>(cls[s])] == 1) {
        next[s] = num_next++;
        continue;
      }
      signature(s, sig_a);
      uint64_t h = 0x9E3779B97F4A7C15ULL;
      for (int32_t v : sig_a) h = (h ^ static_cast<uint64_t>(static_cast<uint32_t>(v))) * 0x100000001B3ULL;
      std::vector<int32_t>& candidates = reps[h];
      int32_t found = -1;
      for (int32_t r : candidates) {
        signature(static_cast<size_t>(r), sig_b);
        if (sig_a == sig_b) {
          found = next[static_cast<size_t>(r)];
          break;
        }
      }
      if (found < 0) {
        found = num_next++;
        candidates.push_back(static_cast<int32_t>(s));
      }
      next[s] = found;
    }
    const bool stable = num_next == num_classes;
    cls.swap(next);
    num_classes = num_next;
    if (stable) break;
  }
  a.analysis_class_ = std::move(cls);
  a.num_analysis_classes_ = num_classes;
}

// Shortest completion of every state (a shortest-derivation fixpoint over byte and call
// transitions, driven by a worklist of states whose cost dropped).
void AutomatonPasses::compute_completions(GrammarAutomaton& a) {
  using Completion = GrammarAutomaton::Completion;
  constexpr Completion kNone{GrammarAutomaton::kUnreachable, GrammarAutomaton::kUnreachable};
  const size_t num = static_cast<size_t>(a.num_states());
  const auto ncls = static_cast<size_t>(a.num_classes_);
  auto& best = a.completion_;
  best.assign(num, kNone);
  std::vector<std::vector<int32_t>> preds(num);  // states with a byte or call edge touching s
  for (size_t s = 0; s < num; ++s) {
    for (size_t c = 0; c < ncls; ++c) {
      const int32_t t = a.trans_[s * ncls + c];
      if (t >= 0) preds[static_cast<size_t>(t)].push_back(static_cast<int32_t>(s));
    }
    for (const CallEdge& e : a.calls(static_cast<int32_t>(s))) {
      preds[static_cast<size_t>(e.return_state)].push_back(static_cast<int32_t>(s));
      preds[static_cast<size_t>(e.callee_start)].push_back(static_cast<int32_t>(s));
    }
  }
  auto add = [](uint32_t a, uint32_t b) {
    return a == GrammarAutomaton::kUnreachable || b == GrammarAutomaton::kUnreachable ? GrammarAutomaton::kUnreachable
                                                                                        : a + b;
  };
  auto evaluate = [&](size_t s) {
    Completion c = (a.flags_[s] & GrammarAutomaton::kFinal) ? Completion{0, 0} : kNone;
    for (size_t k = 0; k < ncls; ++k) {
      const int32_t t = a.trans_[s * ncls + k];
      if (t < 0) continue;
      const Completion& ct = best[static_cast<size_t>(t)];
      const Completion via{add(ct.bytes, 1), add(ct.steps, 1)};
      if (via < c) c = via;
    }
    for (const CallEdge& e : a.calls(static_cast<int32_t>(s))) {
      const Completion& callee = best[static_cast<size_t>(e.callee_start)];
      const Completion& ret = best[static_cast<size_t>(e.return_state)];
      const Completion via{add(callee.bytes, ret.bytes), add(add(callee.steps, ret.steps), 1)};
      if (via < c) c = via;
    }
    return c;
  };
  std::vector<int32_t> work;
  std::vector<uint8_t> queued(num, 0);
  for (size_t s = 0; s < num; ++s) {
    if (a.flags_[s] & GrammarAutomaton::kFinal) {
      best[s] = {0, 0};
      for (int32_t p : preds[s])
        if (!queued[static_cast<size_t>(p)]) queued[static_cast<size_t>(p)] = 1, work.push_back(p);
    }
  }
  while (!work.empty()) {
    const auto s = static_cast<size_t>(work.back());
    work.pop_back();
    queued[s] = 0;
    const Completion c = evaluate(s);
    if (!(c < best[s])) continue;
    best[s] = c;
    for (int32_t p : preds[s])
      if (!queued[static_cast<size_t>(p)]) queued[static_cast<size_t>(p)] = 1, work.push_back(p);
  }
  // Representative bytes: the first printable byte of each class, else its first byte.
  for (int b = 255; b >= 0; --b) a.class_byte_[a.byte_class_[b]] = static_cast<uint8_t>(b);
  for (int b = 126; b >= 32; --b) a.class_byte_[a.byte_class_[b]] = static_cast<uint8_t>(b);
}

void GrammarAutomaton::append_completion(int32_t state, std::string& out) const {
  std::vector<int32_t> returns;
  int32_t s = state;
  const auto ncls = static_cast<size_t>(num_classes_);
  while (true) {
    const Completion& cur = completion_[static_cast<size_t>(s)];
    if (cur.bytes == 0 && cur.steps == 0) {  // final: the rule ends here
      if (returns.empty()) return;
      s = returns.back();
      returns.pop_back();
      continue;
    }
    // Follow a transition that realises the cost.
    bool moved = false;
    for (size_t c = 0; c < ncls && !moved; ++c) {
      const int32_t t = trans_[static_cast<size_t>(s) * ncls + c];
      if (t < 0) continue;
      const Completion& ct = completion_[static_cast<size_t>(t)];
      if (ct.bytes == kUnreachable || !(Completion{ct.bytes + 1, ct.steps + 1} == cur)) continue;
      out += static_cast<char>(class_byte_[c]);
      s = t;
      moved = true;
    }
    for (const CallEdge& e : calls(s)) {
      if (moved) break;
      const Completion& callee = completion_[static_cast<size_t>(e.callee_start)];
      const Completion& ret = completion_[static_cast<size_t>(e.return_state)];
      if (callee.bytes == kUnreachable || ret.bytes == kUnreachable) continue;
      if (!(Completion{callee.bytes + ret.bytes, callee.steps + ret.steps + 1} == cur)) continue;
      returns.push_back(e.return_state);
      s = e.callee_start;
      moved = true;
    }
    INFERD_CHECK_MSG(moved, "completion costs inconsistent with the transitions");
  }
}

}  // namespace inferd::engine
