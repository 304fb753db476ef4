// Compiles a Grammar into a GrammarAutomaton: rule analysis (recursion, inlining), a Thompson
// NFA per compiled rule, global byte classes, subset construction per rule (call and token
// transitions are symbols like bytes), then nullability, left-recursion and liveness passes.
#include "engine/grammar/grammar_automaton.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "engine/grammar/automaton_passes.h"
#include "engine/grammar/utf8_byte_ranges.h"

namespace inferd::engine {
namespace {

constexpr int64_t kSizeCap = int64_t{1} << 40;

struct NfaState {
  std::vector<std::pair<ByteRange, int32_t>> bytes;
  std::vector<int32_t> eps;
  std::vector<std::pair<RuleId, int32_t>> calls;  // (grammar rule, return state)
  std::vector<std::pair<int32_t, int32_t>> tokens;  // (slot, target)
};

struct Nfa {
  std::vector<NfaState> states;
  int32_t start = 0;
  int32_t final = 0;
  int32_t add() {
    states.emplace_back();
    return static_cast<int32_t>(states.size() - 1);
  }
};

}  // namespace

class AutomatonBuilder {
 public:
  AutomatonBuilder(const Grammar& g, const AutomatonOptions& o) : g_(g), opt_(o) {}

  Result<std::shared_ptr<const GrammarAutomaton>> build() {
    INFERD_RETURN_IF_ERROR(g_.validate());
    analyse();
    INFERD_RETURN_IF_ERROR(build_nfas());
    compute_byte_classes();
    INFERD_RETURN_IF_ERROR(determinize_all());
    INFERD_RETURN_IF_ERROR(check_left_recursion());
    INFERD_RETURN_IF_ERROR(prune_dead_states());
    finish_flags();
    AutomatonPasses::run(*a_);
    return std::shared_ptr<const GrammarAutomaton>(std::move(a_));
  }

 private:
  // ---- rule analysis ----

  void collect_refs(ExprId id, std::vector<RuleId>& out) const {
    const GrammarExpr& e = g_.expr(id);
    if (e.kind == ExprKind::kRuleRef) out.push_back(e.rule);
    for (ExprId item : e.items) collect_refs(item, out);
  }

  bool has_unbounded_loop(ExprId id) const {
    const GrammarExpr& e = g_.expr(id);
    if (e.kind == ExprKind::kRepeat && e.max_count == Grammar::kUnbounded) return true;
    for (ExprId item : e.items)
      if (has_unbounded_loop(item)) return true;
    return false;
  }

  void analyse() {
    const size_t n = static_cast<size_t>(g_.num_rules());
    refs_.assign(n, {});
    reachable_.assign(n, 0);
    std::vector<RuleId> stack = {g_.root()};
    reachable_[static_cast<size_t>(g_.root())] = 1;
    while (!stack.empty()) {
      const RuleId r = stack.back();
      stack.pop_back();
      collect_refs(g_.rule(r).body, refs_[static_cast<size_t>(r)]);
      for (RuleId c : refs_[static_cast<size_t>(r)]) {
        if (!reachable_[static_cast<size_t>(c)]) {
          reachable_[static_cast<size_t>(c)] = 1;
          stack.push_back(c);
        }
      }
    }
    find_recursive_rules();
    size_.assign(n, -1);
    inline_.assign(n, 0);
    for (RuleId r = 0; r < g_.num_rules(); ++r)
      if (reachable_[static_cast<size_t>(r)]) decide_inline(r);
  }

  // Marks the rules that lie on a reference cycle (Tarjan's strongly connected components).
  void find_recursive_rules() {
    const size_t n = static_cast<size_t>(g_.num_rules());
    recursive_.assign(n, 0);
    std::vector<int32_t> index(n, -1), low(n, 0);
    std::vector<uint8_t> on_stack(n, 0);
    std::vector<RuleId> scc_stack;
    int32_t counter = 0;
    struct Frame {
      RuleId rule;
      size_t next_ref;
    };
    for (RuleId root = 0; root < g_.num_rules(); ++root) {
      if (!reachable_[static_cast<size_t>(root)] || index[static_cast<size_t>(root)] >= 0) continue;
      std::vector<Frame> frames = {{root, 0}};
      index[static_cast<size_t>(root)] = low[static_cast<size_t>(root)] = counter++;
      scc_stack.push_back(root);
      on_stack[static_cast<size_t>(root)] = 1;
      while (!frames.empty()) {
        Frame& f = frames.back();
        const size_t v = static_cast<size_t>(f.rule);
        if (f.next_ref < refs_[v].size()) {
          const RuleId w = refs_[v][f.next_ref++];
          const size_t wi = static_cast<size_t>(w);
          if (w == f.rule) recursive_[v] = 1;
          if (index[wi] < 0) {
            index[wi] = low[wi] = counter++;
            scc_stack.push_back(w);
            on_stack[wi] = 1;
            frames.push_back({w, 0});
          } else if (on_stack[wi]) {
            low[v] = std::min(low[v], index[wi]);
          }
          continue;
        }
        if (low[v] == index[v]) {
          std::vector<RuleId> component;
          while (true) {
            const RuleId w = scc_stack.back();
            scc_stack.pop_back();
            on_stack[static_cast<size_t>(w)] = 0;
            component.push_back(w);
            if (w == f.rule) break;
          }
          if (component.size() > 1)
            for (RuleId w : component) recursive_[static_cast<size_t>(w)] = 1;
        }
        const RuleId done = f.rule;
        frames.pop_back();
        if (!frames.empty()) {
          const size_t parent = static_cast<size_t>(frames.back().rule);
          low[parent] = std::min(low[parent], low[static_cast<size_t>(done)]);
        }
      }
    }
  }

  static int64_t sat_add(int64_t a, int64_t b) { return std::min(a + b, kSizeCap); }
  static int64_t sat_mul(int64_t a, int64_t b) {
    if (a == 0 || b == 0) return 0;
    return a > kSizeCap / b ? kSizeCap : a * b;
  }

  // Approximate NFA state count of an expression, with the current inlining decisions.
  int64_t estimate(ExprId id) {
    const GrammarExpr& e = g_.expr(id);
    switch (e.kind) {
      case ExprKind::kEmpty: return 0;
      case ExprKind::kLiteral: return static_cast<int64_t>(e.text.size());
      case ExprKind::kChars: {
        int64_t n = 1;
        for (const Utf8Sequence& s : utf8_sequences(e.chars)) n += s.length - 1;
        return n;
      }
      case ExprKind::kRuleRef:
        return decide_inline(e.rule) ? size_[static_cast<size_t>(e.rule)] : 1;
      case ExprKind::kToken: return 1;
      case ExprKind::kSequence:
      case ExprKind::kChoice: {
        int64_t n = e.kind == ExprKind::kChoice ? 1 + static_cast<int64_t>(e.items.size()) : 0;
        for (ExprId item : e.items) n = sat_add(n, estimate(item));
        return n;
      }
      case ExprKind::kRepeat: {
        const int64_t item = estimate(e.items[0]) + 1;
        const int64_t copies = e.max_count == Grammar::kUnbounded ? e.min_count + 1 : e.max_count;
        return sat_add(sat_mul(item, copies), 2);
      }
    }
    return 0;
  }

  // Whether references to `r` are expanded in place (decided once, callees first).
  bool decide_inline(RuleId r) {
    const size_t i = static_cast<size_t>(r);
    if (size_[i] >= 0) return inline_[i];
    if (recursive_[i] || r == g_.root()) {
      size_[i] = 1;
      return false;
    }
    size_[i] = estimate(g_.rule(r).body);
    const int64_t limit =
        has_unbounded_loop(g_.rule(r).body) ? opt_.inline_loop_max_states : opt_.inline_max_states;
    inline_[i] = size_[i] <= limit;
    return inline_[i];
  }

  // ---- NFA construction ----

  int32_t token_slot(const GrammarExpr& e) {
    const TokenRef ref{e.token_id >= 0 ? std::string() : e.text, e.token_id};
    for (size_t i = 0; i < a_->token_refs_.size(); ++i)
      if (a_->token_refs_[i] == ref) return static_cast<int32_t>(i);
    a_->token_refs_.push_back(ref);
    return static_cast<int32_t>(a_->token_refs_.size() - 1);
  }

  int32_t compiled_index(RuleId r) {
    auto [it, inserted] = compiled_of_.emplace(r, static_cast<int32_t>(compiled_.size()));
    if (inserted) compiled_.push_back(r);
    return it->second;
  }

  Status grow_check(const Nfa& nfa) {
    nfa_total_ = nfa.states.size();
    if (nfa_total_ + nfa_done_ > static_cast<size_t>(opt_.max_states) * 2)
      return resource_exhausted("grammar too large: more than {} automaton states",
                                static_cast<int64_t>(opt_.max_states) * 2);
    return {};
  }

  // Adds the expression's transitions starting at `start` and returns its end state. Never adds
  // transitions into `start`, so callers may keep adding transitions out of it.
  Result<int32_t> build_expr(Nfa& nfa, ExprId id, int32_t start) {
    INFERD_RETURN_IF_ERROR(grow_check(nfa));
    const GrammarExpr& e = g_.expr(id);
    switch (e.kind) {
      case ExprKind::kEmpty: return start;
      case ExprKind::kLiteral: {
        int32_t cur = start;
        for (char c : e.text) {
          const int32_t next = nfa.add();
          const auto b = static_cast<uint8_t>(c);
          nfa.states[static_cast<size_t>(cur)].bytes.push_back({{b, b}, next});
          cur = next;
        }
        return cur;
      }
      case ExprKind::kChars: {
        const int32_t end = nfa.add();
        for (const Utf8Sequence& seq : utf8_sequences(e.chars)) {
          int32_t cur = start;
          for (int32_t k = 0; k < seq.length; ++k) {
            const int32_t next = k + 1 == seq.length ? end : nfa.add();
            nfa.states[static_cast<size_t>(cur)].bytes.push_back({seq.bytes[k], next});
            cur = next;
          }
        }
        return end;
      }
      case ExprKind::kRuleRef: {
        if (inline_[static_cast<size_t>(e.rule)]) return build_expr(nfa, g_.rule(e.rule).body, start);
        compiled_index(e.rule);
        const int32_t end = nfa.add();
        nfa.states[static_cast<size_t>(start)].calls.push_back({e.rule, end});
        return end;
      }
      case ExprKind::kToken: {
        const int32_t end = nfa.add();
        nfa.states[static_cast<size_t>(start)].tokens.push_back({token_slot(e), end});
        return end;
      }
      case ExprKind::kSequence: {
        int32_t cur = start;
        for (ExprId item : e.items) {
          INFERD_ASSIGN_OR_RETURN(cur, build_expr(nfa, item, cur));
        }
        return cur;
      }
      case ExprKind::kChoice: {
        const int32_t end = nfa.add();
        for (ExprId item : e.items) {
          const int32_t s = nfa.add();
          nfa.states[static_cast<size_t>(start)].eps.push_back(s);
          INFERD_ASSIGN_OR_RETURN(const int32_t item_end, build_expr(nfa, item, s));
          nfa.states[static_cast<size_t>(item_end)].eps.push_back(end);
        }
        return end;
      }
      case ExprKind::kRepeat: {
        const ExprId item = e.items[0];
        // Each copy starts at a fresh state so that no copy adds transitions into another's start.
        auto copy = [&](int32_t from) -> Result<int32_t> {
          const int32_t s = nfa.add();
          nfa.states[static_cast<size_t>(from)].eps.push_back(s);
          return build_expr(nfa, item, s);
        };
        int32_t cur = start;
        for (int32_t i = 0; i < e.min_count; ++i) {
          INFERD_ASSIGN_OR_RETURN(cur, copy(cur));
        }
        const int32_t end = nfa.add();
        if (e.max_count == Grammar::kUnbounded) {
          const int32_t loop = nfa.add();
          nfa.states[static_cast<size_t>(cur)].eps.push_back(loop);
          INFERD_ASSIGN_OR_RETURN(const int32_t body_end, copy(loop));
          nfa.states[static_cast<size_t>(body_end)].eps.push_back(loop);
          nfa.states[static_cast<size_t>(loop)].eps.push_back(end);
          return end;
        }
        for (int32_t i = e.min_count; i < e.max_count; ++i) {
          nfa.states[static_cast<size_t>(cur)].eps.push_back(end);
          INFERD_ASSIGN_OR_RETURN(cur, copy(cur));
        }
        nfa.states[static_cast<size_t>(cur)].eps.push_back(end);
        return end;
      }
    }
    return start;
  }

  Status build_nfas() {
    compiled_index(g_.root());
    for (size_t i = 0; i < compiled_.size(); ++i) {
      Nfa nfa;
      nfa.start = nfa.add();
      INFERD_ASSIGN_OR_RETURN(nfa.final, build_expr(nfa, g_.rule(compiled_[i]).body, nfa.start));
      nfa_done_ += nfa.states.size();
      nfas_.push_back(std::move(nfa));
    }
    return {};
  }

  // Bytes that no transition tells apart share a class.
  void compute_byte_classes() {
    bool boundary[257] = {};
    boundary[0] = true;
    for (const Nfa& nfa : nfas_)
      for (const NfaState& s : nfa.states)
        for (const auto& [r, t] : s.bytes) {
          boundary[r.lo] = true;
          boundary[r.hi + 1] = true;
        }
    int32_t cls = -1;
    for (int b = 0; b < 256; ++b) {
      if (boundary[b]) ++cls;
      a_->byte_class_[b] = static_cast<uint8_t>(cls);
    }
    a_->num_classes_ = cls + 1;
  }

  // ---- subset construction ----

  void closure(const Nfa& nfa, std::vector<int32_t>& set) {
    ++mark_gen_;
    if (mark_.size() < nfa.states.size()) mark_.resize(nfa.states.size(), 0);
    std::vector<int32_t> stack;
    for (int32_t s : set) {
      if (mark_[static_cast<size_t>(s)] == mark_gen_) continue;
      mark_[static_cast<size_t>(s)] = mark_gen_;
      stack.push_back(s);
    }
    set.clear();
    while (!stack.empty()) {
      const int32_t s = stack.back();
      stack.pop_back();
      set.push_back(s);
      for (int32_t t : nfa.states[static_cast<size_t>(s)].eps) {
        if (mark_[static_cast<size_t>(t)] == mark_gen_) continue;
        mark_[static_cast<size_t>(t)] = mark_gen_;
        stack.push_back(t);
      }
    }
    std::sort(set.begin(), set.end());
  }

  int32_t add_state(int32_t rule_index) {
    const auto ncls = static_cast<size_t>(a_->num_classes_);
    a_->trans_.resize(a_->trans_.size() + ncls, GrammarAutomaton::kNoState);
    a_->flags_.push_back(0);
    a_->state_rule_.push_back(rule_index);
    state_calls_.emplace_back();
    state_tokens_.emplace_back();
    return static_cast<int32_t>(a_->flags_.size() - 1);
  }

  Status determinize_all() {
    for (RuleId r : compiled_) a_->rule_names_.push_back(g_.rule(r).name);
    rule_start_.assign(compiled_.size(), GrammarAutomaton::kNoState);
    for (size_t i = 0; i < compiled_.size(); ++i) INFERD_RETURN_IF_ERROR(determinize(static_cast<int32_t>(i)));
    a_->start_ = rule_start_[0];
    return {};
  }

  Status determinize(int32_t rule_index) {
    const Nfa& nfa = nfas_[static_cast<size_t>(rule_index)];
    struct SetHash {
      size_t operator()(const std::vector<int32_t>& v) const {
        uint64_t h = 0x9E3779B97F4A7C15ULL;
        for (int32_t x : v) h = (h ^ static_cast<uint32_t>(x)) * 0x100000001B3ULL;
        return static_cast<size_t>(h ^ (h >> 29));
      }
    };
    std::unordered_map<std::vector<int32_t>, int32_t, SetHash> ids;
    std::vector<std::vector<int32_t>> pending_sets;
    std::vector<int32_t> pending_ids;
    auto intern = [&](std::vector<int32_t>& set) -> Result<int32_t> {
      closure(nfa, set);
      auto it = ids.find(set);
      if (it != ids.end()) return it->second;
      if (a_->num_states() >= opt_.max_states ||
          (static_cast<size_t>(a_->num_states()) + 1) * static_cast<size_t>(a_->num_classes_) * sizeof(int32_t) >
              opt_.max_table_bytes)
        return resource_exhausted("grammar too large: more than {} automaton states (or {} MiB of transitions)",
                                  opt_.max_states, opt_.max_table_bytes >> 20);
      const int32_t id = add_state(rule_index);
      ids.emplace(set, id);
      pending_sets.push_back(set);
      pending_ids.push_back(id);
      return id;
    };
    std::vector<int32_t> start_set = {nfa.start};
    INFERD_ASSIGN_OR_RETURN(rule_start_[static_cast<size_t>(rule_index)], intern(start_set));

    const auto ncls = static_cast<size_t>(a_->num_classes_);
    std::vector<std::vector<int32_t>> buckets(ncls);
    while (!pending_sets.empty()) {
      const std::vector<int32_t> set = std::move(pending_sets.back());
      const int32_t id = pending_ids.back();
      pending_sets.pop_back();
      pending_ids.pop_back();
      for (auto& b : buckets) b.clear();
      std::vector<std::pair<RuleId, int32_t>> calls;
      std::vector<std::pair<int32_t, int32_t>> tokens;
      bool final = false;
      for (int32_t s : set) {
        const NfaState& ns = nfa.states[static_cast<size_t>(s)];
        if (s == nfa.final) final = true;
        for (const auto& [r, t] : ns.bytes)
          for (int c = a_->byte_class_[r.lo]; c <= a_->byte_class_[r.hi]; ++c)
            buckets[static_cast<size_t>(c)].push_back(t);
        calls.insert(calls.end(), ns.calls.begin(), ns.calls.end());
        tokens.insert(tokens.end(), ns.tokens.begin(), ns.tokens.end());
      }
      if (final) a_->flags_[static_cast<size_t>(id)] |= GrammarAutomaton::kFinal;
      for (size_t c = 0; c < ncls; ++c) {
        if (buckets[c].empty()) continue;
        INFERD_ASSIGN_OR_RETURN(const int32_t t, intern(buckets[c]));
        a_->trans_[static_cast<size_t>(id) * ncls + c] = t;
      }
      // Calls of one rule (and tokens of one slot) from several NFA states merge: after the
      // callee, any of their continuations may follow.
      std::sort(calls.begin(), calls.end());
      for (size_t i = 0; i < calls.size();) {
        size_t j = i;
        std::vector<int32_t> targets;
        while (j < calls.size() && calls[j].first == calls[i].first) targets.push_back(calls[j++].second);
        INFERD_ASSIGN_OR_RETURN(const int32_t t, intern(targets));
        state_calls_[static_cast<size_t>(id)].push_back({compiled_of_.at(calls[i].first), t});
        i = j;
      }
      std::sort(tokens.begin(), tokens.end());
      for (size_t i = 0; i < tokens.size();) {
        size_t j = i;
        std::vector<int32_t> targets;
        while (j < tokens.size() && tokens[j].first == tokens[i].first) targets.push_back(tokens[j++].second);
        INFERD_ASSIGN_OR_RETURN(const int32_t t, intern(targets));
        state_tokens_[static_cast<size_t>(id)].push_back({tokens[i].first, t});
        i = j;
      }
    }
    return {};
  }

  // ---- analyses on the automaton ----

  // States reachable from `from` without consuming anything, given which rules are nullable.
  void silent_reach(int32_t from, std::vector<int32_t>& out) {
    out.assign(1, from);
    ++visit_gen_;
    if (visit_.size() < static_cast<size_t>(a_->num_states())) visit_.resize(static_cast<size_t>(a_->num_states()), 0);
    visit_[static_cast<size_t>(from)] = visit_gen_;
    for (size_t i = 0; i < out.size(); ++i) {
      for (const auto& [callee, ret] : state_calls_[static_cast<size_t>(out[i])]) {
        if (!nullable_[static_cast<size_t>(callee)]) continue;
        if (visit_[static_cast<size_t>(ret)] == visit_gen_) continue;
        visit_[static_cast<size_t>(ret)] = visit_gen_;
        out.push_back(ret);
      }
    }
  }

  Status check_left_recursion() {
    const size_t n = compiled_.size();
    nullable_.assign(n, 0);
    std::vector<int32_t> reach;
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < n; ++r) {
        if (nullable_[r]) continue;
        silent_reach(rule_start_[r], reach);
        for (int32_t s : reach) {
          if (a_->flags_[static_cast<size_t>(s)] & GrammarAutomaton::kFinal) {
            nullable_[r] = 1;
            changed = true;
            break;
          }
        }
      }
    }
    // Rule r calls rule c before consuming anything: an edge of the left-call graph.
    std::vector<std::vector<int32_t>> left_calls(n);
    for (size_t r = 0; r < n; ++r) {
      silent_reach(rule_start_[r], reach);
      for (int32_t s : reach)
        for (const auto& [callee, ret] : state_calls_[static_cast<size_t>(s)])
          left_calls[r].push_back(callee);
    }
    // A cycle in it is left recursion.
    std::vector<uint8_t> color(n, 0);  // 0 new, 1 on the path, 2 done
    std::vector<std::pair<int32_t, size_t>> path;
    for (size_t root = 0; root < n; ++root) {
      if (color[root]) continue;
      path.assign(1, {static_cast<int32_t>(root), 0});
      color[root] = 1;
      while (!path.empty()) {
        auto& [r, next] = path.back();
        const auto& edges = left_calls[static_cast<size_t>(r)];
        if (next == edges.size()) {
          color[static_cast<size_t>(r)] = 2;
          path.pop_back();
          continue;
        }
        const int32_t c = edges[next++];
        if (color[static_cast<size_t>(c)] == 1) {
          std::string cycle;
          bool in_cycle = false;
          for (const auto& [p, unused] : path) {
            if (p == c) in_cycle = true;
            if (in_cycle) cycle += a_->rule_names_[static_cast<size_t>(p)] + " -> ";
          }
          cycle += a_->rule_names_[static_cast<size_t>(c)];
          return invalid_argument("grammar is left-recursive: {} (rewrite it so that each of these "
                                  "rules consumes input before using the next)", cycle);
        }
        if (color[static_cast<size_t>(c)] == 0) {
          color[static_cast<size_t>(c)] = 1;
          path.push_back({c, 0});
        }
      }
    }
    return {};
  }

  // Keeps only states from which the end of their rule is reachable.
  Status prune_dead_states() {
    const size_t num = static_cast<size_t>(a_->num_states());
    const auto ncls = static_cast<size_t>(a_->num_classes_);
    std::vector<std::vector<int32_t>> preds(num);                     // via bytes or tokens
    std::vector<std::vector<std::pair<int32_t, int32_t>>> via_ret(num);    // ret -> (state, callee)
    std::vector<std::vector<std::pair<int32_t, int32_t>>> via_callee(n_rules());  // callee -> (state, ret)
    for (size_t s = 0; s < num; ++s) {
      for (size_t c = 0; c < ncls; ++c) {
        const int32_t t = a_->trans_[s * ncls + c];
        if (t >= 0) preds[static_cast<size_t>(t)].push_back(static_cast<int32_t>(s));
      }
      for (const TokenEdge& te : state_tokens_[s]) preds[static_cast<size_t>(te.target)].push_back(static_cast<int32_t>(s));
      for (const auto& [callee, ret] : state_calls_[s]) {
        via_ret[static_cast<size_t>(ret)].push_back({static_cast<int32_t>(s), callee});
        via_callee[static_cast<size_t>(callee)].push_back({static_cast<int32_t>(s), ret});
      }
    }
    live_.assign(num, 0);
    std::vector<int32_t> work;
    auto mark = [&](int32_t s) {
      if (live_[static_cast<size_t>(s)]) return;
      live_[static_cast<size_t>(s)] = 1;
      work.push_back(s);
    };
    for (size_t s = 0; s < num; ++s)
      if (a_->flags_[s] & GrammarAutomaton::kFinal) mark(static_cast<int32_t>(s));
    while (!work.empty()) {
      const int32_t s = work.back();
      work.pop_back();
      for (int32_t p : preds[static_cast<size_t>(s)]) mark(p);
      for (const auto& [p, callee] : via_ret[static_cast<size_t>(s)])
        if (live_[static_cast<size_t>(rule_start_[static_cast<size_t>(callee)])]) mark(p);
      const int32_t rule = a_->state_rule_[static_cast<size_t>(s)];
      if (rule_start_[static_cast<size_t>(rule)] == s)
        for (const auto& [p, ret] : via_callee[static_cast<size_t>(rule)])
          if (live_[static_cast<size_t>(ret)]) mark(p);
    }
    if (!live_[static_cast<size_t>(a_->start_)])
      return invalid_argument("grammar matches no complete text: rule \"{}\" can never end",
                              a_->rule_names_[0]);
    for (size_t s = 0; s < num; ++s) {
      for (size_t c = 0; c < ncls; ++c) {
        int32_t& t = a_->trans_[s * ncls + c];
        if (t >= 0 && !live_[static_cast<size_t>(t)]) t = GrammarAutomaton::kNoState;
      }
      auto& calls = state_calls_[s];
      std::erase_if(calls, [&](const std::pair<int32_t, int32_t>& ce) {
        return !live_[static_cast<size_t>(rule_start_[static_cast<size_t>(ce.first)])] ||
               !live_[static_cast<size_t>(ce.second)];
      });
      std::erase_if(state_tokens_[s], [&](const TokenEdge& te) { return !live_[static_cast<size_t>(te.target)]; });
    }
    return {};
  }

  size_t n_rules() const { return compiled_.size(); }

  void finish_flags() {
    const size_t num = static_cast<size_t>(a_->num_states());
    const auto ncls = static_cast<size_t>(a_->num_classes_);
    a_->call_begin_.assign(1, 0);
    a_->token_begin_.assign(1, 0);
    for (size_t s = 0; s < num; ++s) {
      uint8_t& f = a_->flags_[s];
      for (size_t c = 0; c < ncls; ++c)
        if (a_->trans_[s * ncls + c] >= 0) f |= GrammarAutomaton::kHasBytes;
      for (const auto& [callee, ret] : state_calls_[s])
        a_->calls_.push_back({rule_start_[static_cast<size_t>(callee)], ret});
      for (const TokenEdge& te : state_tokens_[s]) a_->tokens_.push_back(te);
      if (!state_calls_[s].empty()) f |= GrammarAutomaton::kHasCalls;
      if (!state_tokens_[s].empty()) f |= GrammarAutomaton::kHasTokens;
      a_->call_begin_.push_back(static_cast<uint32_t>(a_->calls_.size()));
      a_->token_begin_.push_back(static_cast<uint32_t>(a_->tokens_.size()));
      const bool final = f & GrammarAutomaton::kFinal;
      if (!final && state_calls_[s].empty()) f |= GrammarAutomaton::kSimple;
      if (final && !(f & (GrammarAutomaton::kHasBytes | GrammarAutomaton::kHasCalls |
                          GrammarAutomaton::kHasTokens)))
        f |= GrammarAutomaton::kTriviallyFinal;
    }
  }

  const Grammar& g_;
  AutomatonOptions opt_;
  std::unique_ptr<GrammarAutomaton> a_ = std::make_unique<GrammarAutomaton>();

  std::vector<std::vector<RuleId>> refs_;
  std::vector<uint8_t> reachable_, recursive_, inline_;
  std::vector<int64_t> size_;

  std::map<RuleId, int32_t> compiled_of_;  // grammar rule -> compiled index
  std::vector<RuleId> compiled_;
  std::vector<Nfa> nfas_;
  size_t nfa_total_ = 0, nfa_done_ = 0;
  std::vector<uint32_t> mark_;
  uint32_t mark_gen_ = 0;

  std::vector<int32_t> rule_start_;  // per compiled rule
  std::vector<std::vector<std::pair<int32_t, int32_t>>> state_calls_;  // (compiled callee, return)
  std::vector<std::vector<TokenEdge>> state_tokens_;
  std::vector<uint8_t> nullable_, live_;
  std::vector<uint32_t> visit_;
  uint32_t visit_gen_ = 0;
};

Result<std::shared_ptr<const GrammarAutomaton>> GrammarAutomaton::build(const Grammar& grammar,
                                                                        const AutomatonOptions& options) {
  AutomatonBuilder builder(grammar, options);
  return builder.build();
}

size_t GrammarAutomaton::memory_bytes() const {
  return trans_.size() * sizeof(int32_t) + flags_.size() + calls_.size() * sizeof(CallEdge) +
         tokens_.size() * sizeof(TokenEdge) + (call_begin_.size() + token_begin_.size()) * 4 +
         state_rule_.size() * 4;
}

}  // namespace inferd::engine
