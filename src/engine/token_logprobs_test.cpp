#include "inferd/token_logprobs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace inferd {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Double-precision reference: full log-softmax and a full sort.
std::vector<double> reference_logsoftmax(const std::vector<float>& logits) {
  double max = -INFINITY;
  for (float x : logits) max = std::max(max, static_cast<double>(x));
  long double sum = 0;
  for (float x : logits) sum += std::exp(static_cast<long double>(x) - max);
  const double lse = max + static_cast<double>(std::log(sum));
  std::vector<double> out;
  for (float x : logits) out.push_back(static_cast<double>(x) - lse);
  return out;
}

std::vector<TokenId> reference_top(const std::vector<float>& logits, int n) {
  std::vector<TokenId> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(),
                   [&](TokenId a, TokenId b) { return logits[a] > logits[b]; });
  ids.resize(static_cast<size_t>(n));
  return ids;
}

std::vector<float> random_logits(size_t vocab, uint32_t seed, float offset) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 4.0f);
  std::vector<float> logits(vocab);
  for (float& x : logits) x = offset + dist(rng);
  return logits;
}

TEST(TokenLogprobs, MatchesDoublePrecisionReference) {
  for (size_t vocab : {size_t{50}, size_t{1000}, size_t{152064}}) {
    for (float offset : {0.0f, -300.0f, 1000.0f}) {
      const auto logits = random_logits(vocab, static_cast<uint32_t>(vocab), offset);
      const auto ref = reference_logsoftmax(logits);
      const auto want_top = reference_top(logits, 20);
      for (TokenId chosen : {TokenId{0}, static_cast<TokenId>(vocab / 3), want_top[0]}) {
        const TokenLogprobs lp = token_logprobs(logits, chosen, 20);
        EXPECT_EQ(lp.chosen.id, chosen);
        EXPECT_NEAR(lp.chosen.logprob, ref[chosen], 1e-5)
            << "vocab " << vocab << " offset " << offset;
        ASSERT_EQ(lp.num_top, 20);
        for (int i = 0; i < 20; ++i) {
          EXPECT_EQ(lp.top[i].id, want_top[i]) << i;
          EXPECT_NEAR(lp.top[i].logprob, ref[want_top[i]], 1e-5);
        }
      }
    }
  }
}

TEST(TokenLogprobs, ProbabilitiesSumToOne) {
  const auto logits = random_logits(5000, 7, 3.0f);
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i)
    sum += std::exp(
        static_cast<double>(token_logprobs(logits, static_cast<TokenId>(i), 0).chosen.logprob));
  EXPECT_NEAR(sum, 1.0, 1e-4);
}

TEST(TokenLogprobs, HugeLogitsDoNotOverflow) {
  const std::vector<float> logits = {30000.0f, 30001.0f, -30000.0f};
  const TokenLogprobs lp = token_logprobs(logits, 0, 2);
  const double e = std::exp(1.0);
  EXPECT_NEAR(lp.chosen.logprob, std::log(1.0 / (1.0 + e)), 1e-6);
  EXPECT_EQ(lp.top[0].id, 1);
  EXPECT_NEAR(lp.top[0].logprob, std::log(e / (1.0 + e)), 1e-6);
  EXPECT_NEAR(log_sum_exp(logits), 30001.0 + std::log1p(1.0 / e), 1e-3);
}

TEST(TokenLogprobs, TiesRankTheLowerIdFirst) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 3.0f, 3.0f};
  const TokenLogprobs lp = token_logprobs(logits, 2, 4);
  ASSERT_EQ(lp.num_top, 4);
  EXPECT_EQ(lp.top[0].id, 1);
  EXPECT_EQ(lp.top[1].id, 3);
  EXPECT_EQ(lp.top[2].id, 4);
  EXPECT_EQ(lp.top[3].id, 2);
  EXPECT_FLOAT_EQ(lp.top[0].logprob, lp.top[2].logprob);
}

TEST(TokenLogprobs, AscendingLogitsWorstCase) {
  std::vector<float> logits(3000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(i) * 0.01f;
  const TokenLogprobs lp = token_logprobs(logits, 0, 20);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(lp.top[i].id, 2999 - i);
}

TEST(TokenLogprobs, MaskedAndNanTokensHaveMinusInfinity) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> logits = {-kInf, 0.0f, nan, 0.0f};
  const TokenLogprobs lp = token_logprobs(logits, 0, 3);
  EXPECT_EQ(lp.chosen.logprob, -kInf);
  EXPECT_EQ(token_logprobs(logits, 2, 0).chosen.logprob, -kInf);
  EXPECT_NEAR(token_logprobs(logits, 1, 0).chosen.logprob, std::log(0.5), 1e-6);
  ASSERT_EQ(lp.num_top, 3);
  EXPECT_EQ(lp.top[0].id, 1);
  EXPECT_EQ(lp.top[1].id, 3);
  EXPECT_EQ(lp.top[2].logprob, -kInf);  // only two finite tokens exist
}

TEST(TokenLogprobs, DegenerateInputs) {
  const std::vector<float> all_masked = {-kInf, -kInf};
  EXPECT_EQ(log_sum_exp(all_masked), -INFINITY);
  EXPECT_EQ(token_logprobs(all_masked, 1, 1).chosen.logprob, -kInf);
  const std::vector<float> with_inf = {kInf, 1.0f};
  EXPECT_EQ(token_logprobs(with_inf, 0, 0).chosen.logprob, 0.0f);
  EXPECT_EQ(token_logprobs(with_inf, 1, 0).chosen.logprob, -kInf);
  const std::vector<float> two = {0.0f, 0.0f};
  EXPECT_EQ(token_logprobs(two, 0, 5).num_top, 2);  // clamped to the vocabulary
  EXPECT_EQ(token_logprobs(two, 0, 0).num_top, 0);
}

}  // namespace
}  // namespace inferd
