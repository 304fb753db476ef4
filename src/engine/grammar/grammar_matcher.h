// GrammarMatcher: the grammar state of one request. Tells which tokens may come next and follows
// the tokens chosen, strictly forward: a token is only accepted if the grammar allows it, and a
// rejected one leaves the state unchanged, so no rollback is ever needed.
//
// A token is allowed iff all of its bytes can be consumed from the current state (it may span
// several grammar elements, and may end inside a multi-byte UTF-8 character that the next token
// completes), or a token element of the grammar names it. End-of-generation tokens are allowed
// exactly when the text so far is complete (can_terminate()); special tokens only through token
// elements.
//
// Typical use per step:  matcher.fill_allowed(logits); id = sampler.sample(logits);
//                        matcher.accept_token(id);  stop when matcher.is_finished().
//
// Memory: one bit per vocabulary token for the mask, plus the parse stacks met so far.
// Thread safety: none (one request on one engine thread). The CompiledGrammar may be shared.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/grammar/compiled_grammar.h"
#include "engine/grammar/pda_runner.h"
#include "engine/grammar/stack_pool.h"
#include "engine/grammar/token_walker.h"
#include "inferd/token_id.h"

namespace inferd::engine {

class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<const CompiledGrammar> grammar);
  GrammarMatcher(const GrammarMatcher&) = delete;
  GrammarMatcher& operator=(const GrammarMatcher&) = delete;

  // Follows `id`. Errors (state unchanged): an id outside the vocabulary, a token the grammar
  // does not allow here (nothing is allowed once the text is complete and nothing may follow,
  // except end-of-generation), any token after end-of-generation.
  Status accept_token(TokenId id);
  // Follows raw text (e.g. a prefix the server forces). Errors as accept_token(), naming the
  // offset of the first byte the grammar rejects.
  Status accept_bytes(std::string_view bytes);

  // Sets every logit of a token not allowed now to -infinity; others are left alone. Entries at
  // or past the vocabulary size (padded output rows) are set to -infinity too.
  void fill_allowed(std::span<float> logits);
  // The allowed tokens as a bitset: bit (id % 64) of word id / 64. REQUIRES: bits.size() >=
  // words_per_mask().
  void fill_bitmask(std::span<uint64_t> bits);
  size_t words_per_mask() const { return (static_cast<size_t>(vocab_size_) + 63) / 64; }
  // Whether `id` is allowed now.
  bool is_allowed(TokenId id);

  // The text so far is a complete sentence of the grammar (end-of-generation is allowed).
  bool can_terminate() const { return accept_ && !finished_; }
  // Nothing may follow: an end-of-generation token was accepted, or the text is complete and the
  // grammar allows no more bytes. The caller stops generating.
  bool is_finished() const { return finished_ || (accept_ && stacks_.empty()); }

  // A shortest byte string that completes the text so far (empty when can_terminate()), e.g. to
  // close an output cut short. Token elements are not followed. Errors (kNotFound) when only
  // token elements lead to the end, or the completion is longer than `max_bytes`.
  Result<std::string> shortest_completion(size_t max_bytes = 65536) const;

  // Back to the start of the grammar.
  void reset();

  // Number of parallel parses (diagnostics; 1 for unambiguous grammars).
  size_t num_parses() const { return stacks_.size(); }
  const CompiledGrammar& grammar() const { return *grammar_; }

 private:
  // The parses after `bytes` from `from`; returns step flags, or kStepOverflow when they die.
  uint8_t advance_bytes(const std::vector<PdaStack>& from, std::string_view bytes,
                        std::vector<PdaStack>& out, size_t* consumed);
  void compute_mask();

  std::shared_ptr<const CompiledGrammar> grammar_;
  const GrammarAutomaton& automaton_;
  const GrammarVocab& vocab_;
  int32_t vocab_size_;
  StackPool pool_;
  TokenWalker walker_;
  std::vector<PdaStack> stacks_;  // the current parse set (live tops)
  bool accept_ = false;           // the current text is complete
  bool finished_ = false;
  std::vector<PdaStack> scratch_a_, scratch_b_, scratch_c_;
  std::vector<uint64_t> mask_;
  bool mask_valid_ = false;
  // Tokens named by token elements, with their slots.
  std::vector<std::pair<TokenId, int32_t>> token_slots_;
};

}  // namespace inferd::engine
