// Log-probabilities as OpenAI and vLLM report them by default: log-softmax of the model's raw
// logits (before penalties, bias, temperature and filters). NaN logits count as -inf.
// Cost: two passes over the vocabulary (max and top-N selection, then a stable log-sum-exp);
// nothing is sorted beyond the N best and nothing is allocated.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "inferd/token_id.h"

namespace inferd {

struct TokenLogprob {
  TokenId id = 0;
  float logprob = 0.0f;
};

// One step's report: the chosen token and the most likely alternatives.
struct TokenLogprobs {
  static constexpr int kMaxTop = 20;

  TokenLogprob chosen;
  int num_top = 0;
  // top[0, num_top): highest logprob first, ties to the lower id. -inf entries appear only when
  // fewer than num_top tokens have finite logits.
  std::array<TokenLogprob, kMaxTop> top{};

  std::span<const TokenLogprob> top_span() const {
    return {top.data(), static_cast<size_t>(num_top)};
  }
};

// log(sum(exp(logits))), computed stably in double precision; -inf when every logit is -inf/NaN,
// +inf when a logit is +inf.
double log_sum_exp(std::span<const float> logits);

// Log-softmax of `token` and of the min(num_top, kMaxTop, logits.size()) most likely tokens.
// REQUIRES 0 <= token < logits.size(), num_top >= 0.
TokenLogprobs token_logprobs(std::span<const float> logits, TokenId token, int num_top);

}  // namespace inferd
