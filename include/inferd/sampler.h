// Sampler: picks each next token of one request from the model's logits, following its
// SamplingParams. Built once per request; owns its random generator (so a seeded request gives
// the same tokens for the same logits whatever else runs in the process, batching included), its
// penalty window and its scratch buffers.
//
// sample() applies, in order: logit bias; repetition penalty; presence and frequency penalties;
// then either greedy choice (temperature 0 or top_k 1: argmax, ties to the lowest id) or top-k,
// temperature, softmax, top-p, min-p, renormalisation and one draw from the generator (every
// non-greedy sample() consumes exactly one 64-bit draw).
// NaN logits count as -inf; -inf tokens are never drawn unless every token is -inf, in which case
// the lowest id is returned.
//
// Memory: 8 bytes per vocabulary entry of scratch, plus 4 per entry when penalties are on.
// Allocation: none in sample() (all buffers are sized at construction); accept() only while a
// penalty window above TokenWindow::kPreallocTokens fills. Thread safety: none (one engine thread).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "inferd/status.h"
#include "inferd/sampling_params.h"
#include "inferd/token_id.h"
#include "inferd/token_logprobs.h"
#include "inferd/token_window.h"

namespace inferd {

struct TokenProb {
  TokenId id = 0;
  float prob = 0.0f;
};

class Sampler {
 public:
  // Validates `params` first (InvalidArgument naming the bad field).
  static Result<Sampler> create(const SamplingParams& params, int vocab_size);
  // REQUIRES params.validate(vocab_size).ok().
  Sampler(const SamplingParams& params, int vocab_size);

  // Records the prompt's tokens into the penalty window (same as accept() for each).
  void feed_prompt(std::span<const TokenId> tokens);
  // Records a token appended to the sequence (a sampled one, or one forced by the engine).
  // sample() does not record its choice itself. REQUIRES 0 <= token < vocab_size.
  void accept(TokenId token);

  // Chooses the next token. `logits` are the model's raw logits for this step and are not
  // modified. REQUIRES logits.size() == vocab_size.
  TokenId sample(std::span<const float> logits);

  // The distribution sample() would draw from for these logits, without drawing: every token
  // that survives bias, penalties and filters with its renormalised probability, by id.
  // Greedy: the chosen token with probability 1. For tests and diagnostics (allocates).
  std::vector<TokenProb> distribution(std::span<const float> logits);
  // The logits after bias and penalties, as the filters see them (NaN as -inf).
  // REQUIRES logits.size() == out.size() == vocab_size.
  void adjusted_logits(std::span<const float> logits, std::span<float> out);

  // The last sample()'s log-probabilities (log-softmax of the raw logits) when
  // params.wants_logprobs(); otherwise empty.
  const TokenLogprobs& last_logprobs() const { return last_logprobs_; }

  const SamplingParams& params() const { return params_; }
  int vocab_size() const { return vocab_size_; }
  // The generator's seed: params.seed, or the one drawn at construction (for reproduction).
  uint64_t seed() const { return seed_; }
  const TokenWindow& window() const { return window_; }

 private:
  struct Candidate {
    float logit;  // adjusted logit; after the softmax, the unnormalised probability
    TokenId id;
  };

  // Fills candidates_ (index == id) with the logits after bias and penalties.
  void load_adjusted(std::span<const float> logits);
  TokenId pick_greedy() const;
  // Moves the candidates with logit > -inf to the front; returns their number.
  size_t drop_impossible();
  // Turns candidates_[0, n) (n > 0, every logit > -inf) into the unnormalised probabilities of
  // the survivors of top-k, temperature, top-p and min-p, kept at the front; returns their number.
  size_t filter(size_t n);
  // Draws from candidates_[0, n) (unnormalised probabilities) with u in [0, 1).
  TokenId draw(size_t n, double u) const;
  // Each filter keeps a subset at the front of candidates_[0, n) and returns its size (>= 1).
  size_t apply_top_k(size_t n);
  size_t apply_top_p(size_t n, double total);
  size_t apply_min_p(size_t n);
  double uniform01();

  SamplingParams params_;
  int vocab_size_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  TokenWindow window_;
  std::vector<Candidate> candidates_;
  TokenLogprobs last_logprobs_;
};

}  // namespace inferd
