#include "model/moe_routing.h"

#include <cmath>

#include "base/check.h"

namespace inferd::model {

void moe_route_token(const float* router_logits, int64_t n_expert, int64_t k, bool normalize,
                     int32_t* experts, float* weights) {
  float max_logit = router_logits[0];
  for (int64_t e = 1; e < n_expert; ++e) max_logit = std::max(max_logit, router_logits[e]);
  float sum = 0.0f;
  for (int64_t e = 0; e < n_expert; ++e) sum += std::exp(router_logits[e] - max_logit);
  // Selection by repeated maximum over the experts not yet chosen (k is small).
  float chosen_sum = 0.0f;
  for (int64_t j = 0; j < k; ++j) {
    int64_t best = -1;
    for (int64_t e = 0; e < n_expert; ++e) {
      bool taken = false;
      for (int64_t i = 0; i < j; ++i) taken |= experts[i] == e;
      if (!taken && (best < 0 || router_logits[e] > router_logits[best])) best = e;
    }
    experts[j] = static_cast<int32_t>(best);
    weights[j] = std::exp(router_logits[best] - max_logit) / sum;
    chosen_sum += weights[j];
  }
  if (normalize)
    for (int64_t j = 0; j < k; ++j) weights[j] /= chosen_sum;
}

MoeRouting::MoeRouting(int64_t max_tokens, int64_t n_expert, int64_t k)
    : max_tokens_(max_tokens), n_expert_(n_expert), k_(k) {
  const auto n = static_cast<size_t>(max_tokens * k);
  token_experts_.resize(n * sizeof(int32_t));
  token_weights_.resize(n * sizeof(float));
  entry_tokens_.resize(n * sizeof(int32_t));
  entry_weights_.resize(n * sizeof(float));
  offsets_.resize(static_cast<size_t>(n_expert + 1) * sizeof(int32_t));
}

void MoeRouting::group_by_expert(int64_t num_tokens) {
  INFERD_CHECK(num_tokens <= max_tokens_);
  int32_t* offsets = offsets_.as<int32_t>();
  const int32_t* experts = token_experts();
  const float* weights = token_weights_.as<float>();
  for (int64_t e = 0; e <= n_expert_; ++e) offsets[e] = 0;
  const int64_t n = num_tokens * k_;
  for (int64_t i = 0; i < n; ++i) {
    INFERD_CHECK(experts[i] >= 0 && experts[i] < n_expert_);
    ++offsets[experts[i] + 1];
  }
  for (int64_t e = 0; e < n_expert_; ++e) offsets[e + 1] += offsets[e];
  // Counting sort, stable in token order; offsets[e] advances to end(e) while filling and is
  // then shifted back one expert.
  int32_t* tokens = entry_tokens_.as<int32_t>();
  float* entry_weights = entry_weights_.as<float>();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t slot = offsets[experts[i]]++;
    tokens[slot] = static_cast<int32_t>(i / k_);
    entry_weights[slot] = weights[i];
  }
  for (int64_t e = n_expert_; e > 0; --e) offsets[e] = offsets[e - 1];
  offsets[0] = 0;
}

}  // namespace inferd::model
