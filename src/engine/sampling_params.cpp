#include "inferd/sampling_params.h"

#include <algorithm>
#include <cmath>

namespace inferd {

Status SamplingParams::validate(int vocab_size) const {
  if (vocab_size <= 0)
    return invalid_argument("vocabulary size must be positive, got {}", vocab_size);
  if (!std::isfinite(temperature) || temperature < 0.0f)
    return invalid_argument("temperature must be a finite number >= 0, got {}", temperature);
  if (top_k < 0) return invalid_argument("top_k must be >= 0 (0 disables it), got {}", top_k);
  if (!(top_p > 0.0f && top_p <= 1.0f))
    return invalid_argument("top_p must be in (0, 1], got {}", top_p);
  if (!(min_p >= 0.0f && min_p <= 1.0f))
    return invalid_argument("min_p must be in [0, 1], got {}", min_p);
  if (!std::isfinite(repetition_penalty) || repetition_penalty <= 0.0f)
    return invalid_argument("repetition_penalty must be a finite number > 0, got {}",
                            repetition_penalty);
  if (!(std::fabs(presence_penalty) <= kMaxAbsPenalty))
    return invalid_argument("presence_penalty must be in [-{}, {}], got {}", kMaxAbsPenalty,
                            kMaxAbsPenalty, presence_penalty);
  if (!(std::fabs(frequency_penalty) <= kMaxAbsPenalty))
    return invalid_argument("frequency_penalty must be in [-{}, {}], got {}", kMaxAbsPenalty,
                            kMaxAbsPenalty, frequency_penalty);
  if (penalty_last_n < -1)
    return invalid_argument("penalty_last_n must be >= -1 (-1 = whole context), got {}",
                            penalty_last_n);
  std::vector<TokenId> ids;
  ids.reserve(logit_bias.size());
  for (const auto& [token, bias] : logit_bias) {
    if (token < 0 || token >= vocab_size)
      return invalid_argument("logit_bias token id {} is out of range [0, {})", token, vocab_size);
    if (!(std::fabs(bias) <= kMaxAbsLogitBias))
      return invalid_argument("logit_bias for token {} must be in [-{}, {}], got {}", token,
                              kMaxAbsLogitBias, kMaxAbsLogitBias, bias);
    ids.push_back(token);
  }
  std::sort(ids.begin(), ids.end());
  if (auto dup = std::adjacent_find(ids.begin(), ids.end()); dup != ids.end())
    return invalid_argument("logit_bias lists token {} more than once", *dup);
  if (num_top_logprobs < 0 || num_top_logprobs > kMaxTopLogprobs)
    return invalid_argument("top_logprobs must be in [0, {}], got {}", kMaxTopLogprobs,
                            num_top_logprobs);
  return {};
}

}  // namespace inferd
