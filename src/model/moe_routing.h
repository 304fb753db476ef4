// MoeRouting: which experts of a sparse (mixture-of-experts) layer each token of a batch uses and
// with what weight, and the same choices grouped by expert so that each expert's matrices are
// applied once to all of its tokens. Plain loops over buffers the caller sizes once (no
// allocation); one MoeRouting per forward scratch.
#pragma once

#include <cstdint>

#include "base/aligned_buffer.h"

namespace inferd::model {

// Routes one token as Qwen3-MoE's published modeling code does: probabilities =
// softmax(router_logits) in f32, the `k` most probable experts (ties go to the lower expert
// index), their probabilities renormalised to sum to 1 when `normalize` (norm_topk_prob).
// Writes the experts to `experts` [k] and their weights to `weights` [k], most probable first.
// REQUIRES 1 <= k <= n_expert.
void moe_route_token(const float* router_logits, int64_t n_expert, int64_t k, bool normalize,
                     int32_t* experts, float* weights);

class MoeRouting {
 public:
  // Room for batches of up to `max_tokens` tokens routed to `k` of `n_expert` experts.
  MoeRouting(int64_t max_tokens, int64_t n_expert, int64_t k);

  int64_t n_expert() const { return n_expert_; }
  int64_t k() const { return k_; }
  // Per token b: its experts and weights, [b * k, (b + 1) * k). Filled by the caller (with
  // moe_route_token), then grouped by group_by_expert().
  int32_t* token_experts() { return token_experts_.as<int32_t>(); }
  float* token_weights() { return token_weights_.as<float>(); }

  // Groups the choices of the first `num_tokens` tokens by expert: afterwards expert e's
  // entries are [begin(e), end(e)), each a token index (ascending) and its weight.
  // REQUIRES num_tokens <= max_tokens and every expert id in [0, n_expert).
  void group_by_expert(int64_t num_tokens);
  int64_t begin(int64_t expert) const { return offsets_.as<int32_t>()[expert]; }
  int64_t end(int64_t expert) const { return offsets_.as<int32_t>()[expert + 1]; }
  const int32_t* entry_tokens() const { return entry_tokens_.as<int32_t>(); }
  const float* entry_weights() const { return entry_weights_.as<float>(); }

 private:
  int64_t max_tokens_, n_expert_, k_;
  AlignedBuffer token_experts_, token_weights_;  // [max_tokens * k]
  AlignedBuffer offsets_;                        // [n_expert + 1]
  AlignedBuffer entry_tokens_, entry_weights_;   // [max_tokens * k], grouped by expert
};

}  // namespace inferd::model
