#include "inferd/token_logprobs.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/check.h"

namespace inferd {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

inline float clean(float x) {
  return std::isnan(x) ? kNegInf : x;
}

// True when (a_logit, a_id) ranks before (b_logit, b_id): higher logit, then lower id.
inline bool ranks_before(float a_logit, TokenId a_id, float b_logit, TokenId b_id) {
  return a_logit > b_logit || (a_logit == b_logit && a_id < b_id);
}

double log_sum_exp_with_max(std::span<const float> logits, float max_logit) {
  if (max_logit == kNegInf) return -std::numeric_limits<double>::infinity();
  if (max_logit == std::numeric_limits<float>::infinity()) return max_logit;
  double sum = 0.0;
  for (float x : logits) {
    x = clean(x);
    if (x != kNegInf) sum += std::exp(x - max_logit);  // float exp, double sum
  }
  return static_cast<double>(max_logit) + std::log(sum);
}

float logprob_of(float logit, double lse) {
  logit = clean(logit);
  if (logit == kNegInf) return kNegInf;
  if (std::isinf(lse)) return logit == lse ? 0.0f : kNegInf;  // lse = +inf: mass on +inf logits
  return static_cast<float>(static_cast<double>(logit) - lse);
}

}  // namespace

double log_sum_exp(std::span<const float> logits) {
  float max_logit = kNegInf;
  for (float x : logits) max_logit = std::max(max_logit, clean(x));
  return log_sum_exp_with_max(logits, max_logit);
}

TokenLogprobs token_logprobs(std::span<const float> logits, TokenId token, int num_top) {
  INFERD_CHECK(token >= 0 && static_cast<size_t>(token) < logits.size() && num_top >= 0);
  TokenLogprobs out;
  const int n =
      static_cast<int>(std::min<size_t>(std::min(num_top, TokenLogprobs::kMaxTop), logits.size()));

  // Pass 1: the maximum, and the n best (logit, id) kept sorted by insertion. Most logits lose
  // against the current n-th best with one comparison, so this stays O(vocab) in practice.
  float max_logit = kNegInf;
  std::array<float, TokenLogprobs::kMaxTop> best_logit{};
  std::array<TokenId, TokenLogprobs::kMaxTop> best_id{};
  int num_best = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float x = clean(logits[i]);
    max_logit = std::max(max_logit, x);
    if (n == 0) continue;
    const auto id = static_cast<TokenId>(i);
    if (num_best == n && !ranks_before(x, id, best_logit[n - 1], best_id[n - 1])) continue;
    int pos = num_best < n ? num_best++ : n - 1;
    while (pos > 0 && ranks_before(x, id, best_logit[pos - 1], best_id[pos - 1])) {
      best_logit[pos] = best_logit[pos - 1];
      best_id[pos] = best_id[pos - 1];
      --pos;
    }
    best_logit[pos] = x;
    best_id[pos] = id;
  }

  // Pass 2: log-sum-exp relative to the maximum (no overflow; the largest term is exp(0) = 1).
  const double lse = log_sum_exp_with_max(logits, max_logit);
  out.chosen = {token, logprob_of(logits[static_cast<size_t>(token)], lse)};
  out.num_top = num_best;
  for (int i = 0; i < num_best; ++i) out.top[i] = {best_id[i], logprob_of(best_logit[i], lse)};
  return out;
}

}  // namespace inferd
