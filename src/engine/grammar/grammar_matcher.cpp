#include "engine/grammar/grammar_matcher.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace inferd::engine {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

std::string describe_bytes(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    const auto b = static_cast<uint8_t>(c);
    if (b >= 0x20 && b < 0x7F && b != '\\' && b != '"') {
      out += c;
    } else {
      out += fmt::format("\\x{:02X}", b);
    }
  }
  return out;
}

bool stack_less(const PdaStack& a, const PdaStack& b) {
  return a.state != b.state ? a.state < b.state : a.parent < b.parent;
}

}  // namespace

GrammarMatcher::GrammarMatcher(std::shared_ptr<const CompiledGrammar> grammar)
    : grammar_(std::move(grammar)),
      automaton_(grammar_->automaton()),
      vocab_(grammar_->vocab()),
      vocab_size_(vocab_.size()),
      walker_(automaton_, vocab_, pool_),
      mask_((static_cast<size_t>(vocab_size_) + 63) / 64, 0) {
  const std::vector<TokenId>& slots = grammar_->slot_tokens();
  for (size_t i = 0; i < slots.size(); ++i) token_slots_.push_back({slots[i], static_cast<int32_t>(i)});
  std::sort(token_slots_.begin(), token_slots_.end());
  reset();
}

void GrammarMatcher::reset() {
  pool_.clear();
  stacks_.clear();
  PdaRunner& runner = walker_.runner();
  runner.begin_set();
  const uint8_t flags = runner.close(automaton_.start_state(), kEmptyStack, stacks_);
  accept_ = flags & kStepAccept;
  finished_ = false;
  mask_valid_ = false;
}

uint8_t GrammarMatcher::advance_bytes(const std::vector<PdaStack>& from, std::string_view bytes,
                                      std::vector<PdaStack>& out, size_t* consumed) {
  PdaRunner& runner = walker_.runner();
  scratch_a_ = from;
  uint8_t flags = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    scratch_b_.clear();
    flags = runner.step_byte(scratch_a_, static_cast<uint8_t>(bytes[i]), scratch_b_);
    if ((flags & kStepOverflow) || (scratch_b_.empty() && !(flags & kStepAccept))) {
      if (consumed) *consumed = i;
      return kStepOverflow;
    }
    scratch_a_.swap(scratch_b_);
  }
  if (consumed) *consumed = bytes.size();
  out = scratch_a_;
  return flags;
}

Status GrammarMatcher::accept_token(TokenId id) {
  if (id < 0 || id >= vocab_size_)
    return invalid_argument("token {} is outside the vocabulary ({} tokens)", id, vocab_size_);
  if (finished_) return invalid_argument("token {} after the end of generation", id);
  if (vocab_.is_eog(id)) {
    if (!accept_)
      return invalid_argument("end-of-generation token {} before the grammar is complete", id);
    finished_ = true;
    mask_valid_ = false;
    return {};
  }
  std::vector<PdaStack>& next = scratch_c_;
  next.clear();
  uint8_t flags = 0;
  bool ok = false;
  if (vocab_.is_text(id)) {
    const uint8_t f = advance_bytes(stacks_, vocab_.bytes(id), next, nullptr);
    if (!(f & kStepOverflow)) {
      flags |= f;
      ok = true;
    }
  }
  // Token elements naming this token.
  auto it = std::lower_bound(token_slots_.begin(), token_slots_.end(), std::pair<TokenId, int32_t>{id, -1});
  for (; it != token_slots_.end() && it->first == id; ++it) {
    scratch_b_.clear();
    const uint8_t f = walker_.runner().step_token_slot(stacks_, it->second, scratch_b_);
    if ((f & kStepOverflow) || (scratch_b_.empty() && !(f & kStepAccept))) continue;
    flags |= f;
    ok = true;
    next.insert(next.end(), scratch_b_.begin(), scratch_b_.end());
  }
  if (!ok)
    return invalid_argument("token {} (\"{}\") is not allowed by the grammar here", id,
                            describe_bytes(vocab_.bytes(id)));
  std::sort(next.begin(), next.end(), stack_less);
  next.erase(std::unique(next.begin(), next.end()), next.end());
  stacks_.swap(next);
  accept_ = flags & kStepAccept;
  mask_valid_ = false;
  return {};
}

Status GrammarMatcher::accept_bytes(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (finished_) return invalid_argument("text after the end of generation");
  size_t consumed = 0;
  std::vector<PdaStack>& next = scratch_c_;
  const uint8_t flags = advance_bytes(stacks_, bytes, next, &consumed);
  if (flags & kStepOverflow)
    return invalid_argument("text rejected by the grammar at byte {} (\"{}\")", consumed,
                            describe_bytes(bytes.substr(consumed, 16)));
  stacks_.swap(next);
  accept_ = flags & kStepAccept;
  mask_valid_ = false;
  return {};
}

void GrammarMatcher::compute_mask() {
  std::fill(mask_.begin(), mask_.end(), 0);
  mask_valid_ = true;
  if (finished_) return;
  auto set = [&](TokenId id) {
    mask_[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (static_cast<uint32_t>(id) & 63);
  };
  // Tokens accepted whatever the stack, once per distinct state.
  for (size_t i = 0; i < stacks_.size(); ++i) {
    const int32_t state = stacks_[i].state;
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) seen = stacks_[j].state == state;
    if (seen) continue;
    const StateTokens& st = grammar_->state_tokens(state, walker_);
    if (!st.accepted_bits.empty()) {
      for (size_t w = 0; w < mask_.size(); ++w) mask_[w] |= st.accepted_bits[w];
    } else {
      for (TokenId id : st.accepted_ids) set(id);
    }
  }
  // Tokens that depend on the stack below, per parse.
  for (const PdaStack& s : stacks_)
    walker_.walk_uncertain(grammar_->state_tokens(s.state, walker_), s, mask_);
  // Token elements.
  for (const PdaStack& s : stacks_) {
    if (!(automaton_.flags(s.state) & GrammarAutomaton::kHasTokens)) continue;
    for (const TokenEdge& e : automaton_.tokens(s.state)) set(grammar_->slot_tokens()[static_cast<size_t>(e.slot)]);
  }
  if (accept_)
    for (TokenId id : vocab_.eog_tokens()) set(id);
}

void GrammarMatcher::fill_bitmask(std::span<uint64_t> bits) {
  if (!mask_valid_) compute_mask();
  std::copy(mask_.begin(), mask_.end(), bits.begin());
}

bool GrammarMatcher::is_allowed(TokenId id) {
  if (id < 0 || id >= vocab_size_) return false;
  if (!mask_valid_) compute_mask();
  return (mask_[static_cast<size_t>(id) >> 6] >> (static_cast<uint32_t>(id) & 63)) & 1;
}

void GrammarMatcher::fill_allowed(std::span<float> logits) {
  if (!mask_valid_) compute_mask();
  const size_t n = std::min(logits.size(), static_cast<size_t>(vocab_size_));
  float* out = logits.data();
  for (size_t w = 0; w * 64 < n; ++w) {
    const size_t base = w * 64;
    const size_t count = std::min<size_t>(64, n - base);
    uint64_t rejected = ~mask_[w];
    if (count < 64) rejected &= (uint64_t{1} << count) - 1;
    if (rejected == 0) continue;
    if (rejected == ~uint64_t{0}) {
      std::fill_n(out + base, 64, kNegInf);
      continue;
    }
    while (rejected) {
      out[base + static_cast<size_t>(__builtin_ctzll(rejected))] = kNegInf;
      rejected &= rejected - 1;
    }
  }
  for (size_t i = n; i < logits.size(); ++i) out[i] = kNegInf;
}

Result<std::string> GrammarMatcher::shortest_completion(size_t max_bytes) const {
  if (accept_ || finished_) return std::string();
  // Cost of a parse: its state's completion, then each return state's, down the stack.
  const PdaStack* best = nullptr;
  uint64_t best_cost = UINT64_MAX;
  for (const PdaStack& s : stacks_) {
    uint64_t cost = automaton_.completion_bytes(s.state);
    for (int32_t p = s.parent; p >= 0 && cost < UINT64_MAX; p = pool_.node(p).parent) {
      const uint32_t r = automaton_.completion_bytes(pool_.node(p).return_state);
      cost = r == GrammarAutomaton::kUnreachable ? UINT64_MAX : cost + r;
    }
    if (automaton_.completion_bytes(s.state) == GrammarAutomaton::kUnreachable) cost = UINT64_MAX;
    if (cost < best_cost) {
      best_cost = cost;
      best = &s;
    }
  }
  if (!best) return not_found("no completion made of bytes only");
  if (best_cost > max_bytes) return not_found("the shortest completion has {} bytes (limit {})", best_cost, max_bytes);
  std::string out;
  automaton_.append_completion(best->state, out);
  for (int32_t p = best->parent; p >= 0; p = pool_.node(p).parent)
    automaton_.append_completion(pool_.node(p).return_state, out);
  return out;
}

}  // namespace inferd::engine
