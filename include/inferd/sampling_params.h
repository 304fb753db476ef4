// SamplingParams: how one request picks each next token (the OpenAI / vLLM / llama.cpp request
// fields). Defaults leave the model's distribution unchanged: temperature 1, no filters, no
// penalties, no bias. validate() checks a request's values before a Sampler is built from them.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "inferd/status.h"
#include "inferd/token_id.h"

namespace inferd {

struct SamplingParams {
  static constexpr int kMaxTopLogprobs = 20;
  static constexpr float kMaxAbsLogitBias = 100.0f;  // OpenAI's range for logit_bias values
  static constexpr float kMaxAbsPenalty = 2.0f;      // OpenAI's range for presence/frequency

  // 0 picks the most likely token (greedy, ties to the lowest id); otherwise logits are divided
  // by it before the softmax.
  float temperature = 1.0f;
  int32_t top_k = 0;   // keep the k most likely tokens; 0 = off
  float top_p = 1.0f;  // keep the smallest set with cumulative probability >= top_p; 1 = off
  float min_p = 0.0f;  // keep tokens with probability >= min_p * max probability; 0 = off
  // Multiplicative penalty for tokens in the penalty window: positive logits are divided by it,
  // negative ones multiplied. 1 = off.
  float repetition_penalty = 1.0f;
  // OpenAI's additive penalties: subtract presence_penalty once from a token that occurs in the
  // window, and frequency_penalty times its number of occurrences. 0 = off.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  // The penalties look at the last penalty_last_n tokens of the context (prompt and generated
  // tokens, as fed to the Sampler); -1 = the whole context, 0 = no tokens (penalties off).
  int32_t penalty_last_n = -1;
  // Added to the logits of the listed tokens before anything else; each token at most once.
  std::vector<std::pair<TokenId, float>> logit_bias;
  // Seed of the request's own random generator; absent = drawn from std::random_device.
  std::optional<uint64_t> seed;
  // Report the sampled token's log-probability, and the num_top_logprobs most likely
  // alternatives (0..kMaxTopLogprobs; a positive value implies logprobs).
  bool logprobs = false;
  int32_t num_top_logprobs = 0;

  bool is_greedy() const { return temperature == 0.0f || top_k == 1; }
  bool has_penalties() const {
    return penalty_last_n != 0 &&
           (repetition_penalty != 1.0f || presence_penalty != 0.0f || frequency_penalty != 0.0f);
  }
  bool wants_logprobs() const { return logprobs || num_top_logprobs > 0; }

  // InvalidArgument naming the first bad field ("top_p must be in (0, 1], got 1.5"), or ok.
  Status validate(int vocab_size) const;
};

}  // namespace inferd
