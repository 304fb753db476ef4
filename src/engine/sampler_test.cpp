#include "inferd/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace inferd {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

Sampler make(SamplingParams p, int vocab) {
  if (!p.seed) p.seed = 1234;
  auto s = Sampler::create(p, vocab);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return std::move(s).value();
}

std::vector<float> log_of(std::vector<double> probs) {
  std::vector<float> out;
  for (double p : probs) out.push_back(static_cast<float>(std::log(p)));
  return out;
}

std::set<TokenId> support(const std::vector<TokenProb>& dist) {
  std::set<TokenId> ids;
  for (const auto& tp : dist) ids.insert(tp.id);
  return ids;
}

float prob_of(const std::vector<TokenProb>& dist, TokenId id) {
  for (const auto& tp : dist)
    if (tp.id == id) return tp.prob;
  return 0.0f;
}

// The specification in plain double precision with full sorts: top-k, temperature, softmax,
// top-p, min-p, renormalise. `logits` are already biased and penalised.
std::map<TokenId, double> reference_distribution(const std::vector<float>& logits,
                                                 const SamplingParams& p) {
  std::vector<TokenId> ids;
  for (size_t i = 0; i < logits.size(); ++i)
    if (logits[i] > -kInf) ids.push_back(static_cast<TokenId>(i));
  std::stable_sort(ids.begin(), ids.end(),
                   [&](TokenId a, TokenId b) { return logits[a] > logits[b]; });
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < ids.size())
    ids.resize(static_cast<size_t>(p.top_k));
  std::vector<double> probs;
  double sum = 0;
  for (TokenId id : ids) {
    probs.push_back(std::exp((static_cast<double>(logits[id]) - logits[ids[0]]) / p.temperature));
    sum += probs.back();
  }
  for (double& x : probs) x /= sum;
  size_t keep = ids.size();
  if (p.top_p < 1.0f) {
    double cum = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      cum += probs[i];
      if (cum >= p.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  std::map<TokenId, double> out;
  double kept_sum = 0;
  for (size_t i = 0; i < keep; ++i) {
    if (probs[i] < p.min_p * probs[0]) continue;
    out[ids[i]] = probs[i];
    kept_sum += probs[i];
  }
  for (auto& [id, x] : out) x /= kept_sum;
  return out;
}

// Pearson's statistic of `counts` (num_samples draws) against `dist`; categories expecting
// fewer than 5 draws are pooled. Fails the test if a draw fell outside the support.
double chi_square(const std::map<TokenId, int>& counts, const std::vector<TokenProb>& dist,
                  int num_samples, int* dof) {
  for (const auto& [id, n] : counts) EXPECT_GT(prob_of(dist, id), 0.0f) << "drew token " << id;
  double stat = 0, pooled_expected = 0, pooled_observed = 0;
  int categories = 0;
  for (const auto& tp : dist) {
    const double expected = tp.prob * num_samples;
    const double observed = counts.count(tp.id) ? counts.at(tp.id) : 0;
    if (expected < 5) {
      pooled_expected += expected;
      pooled_observed += observed;
      continue;
    }
    stat += (observed - expected) * (observed - expected) / expected;
    ++categories;
  }
  if (pooled_expected > 0) {
    stat += (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) /
            std::max(pooled_expected, 1.0);
    ++categories;
  }
  *dof = std::max(categories - 1, 1);
  return stat;
}

// About the 1e-6 upper quantile of chi-square with `dof` degrees of freedom (generous).
double chi_square_bound(int dof) {
  return dof + 7.0 * std::sqrt(2.0 * dof) + 10.0;
}

TEST(Sampler, GreedyPicksArgmaxWithTiesToLowestId) {
  SamplingParams p;
  p.temperature = 0.0f;
  Sampler s = make(p, 5);
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 3.0f, 0.5f, 3.0f, 2.0f}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{-1.0f, -1.0f, -1.0f, -2.0f, -5.0f}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{0.0f, 0.0f, 0.0f, 0.0f, 9.0f}), 4);
  const auto dist = s.distribution(std::vector<float>{1.0f, 3.0f, 0.5f, 3.0f, 2.0f});
  ASSERT_EQ(dist.size(), 1u);
  EXPECT_EQ(dist[0].id, 1);
  EXPECT_EQ(dist[0].prob, 1.0f);
}

TEST(Sampler, TopKOfOneIsGreedy) {
  SamplingParams p;
  p.top_k = 1;
  p.temperature = 5.0f;
  Sampler s = make(p, 4);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(s.sample(std::vector<float>{0.0f, 2.0f, 2.0f, 1.9f}), 1);
}

TEST(Sampler, TopKKeepsTheKMostLikely) {
  SamplingParams p;
  p.top_k = 2;
  Sampler s = make(p, 5);
  const auto dist = s.distribution(std::vector<float>{1.0f, 5.0f, 3.0f, 4.0f, 2.0f});
  EXPECT_EQ(support(dist), (std::set<TokenId>{1, 3}));
  const double e = std::exp(1.0);
  EXPECT_NEAR(prob_of(dist, 1), e / (1 + e), 1e-6);
  EXPECT_NEAR(prob_of(dist, 3), 1 / (1 + e), 1e-6);
  // Ties at the boundary keep the lower ids.
  EXPECT_EQ(support(s.distribution(std::vector<float>{2.0f, 1.0f, 2.0f, 2.0f, 0.0f})),
            (std::set<TokenId>{0, 2}));
  // k at least the vocabulary keeps everything.
  p.top_k = 9;
  Sampler all = make(p, 5);
  EXPECT_EQ(all.distribution(std::vector<float>{1.0f, 5.0f, 3.0f, 4.0f, 2.0f}).size(), 5u);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  // Probabilities by id: 0.1, 0.5, 0.15, 0.25 (sorted: 1, 3, 2, 0; cumulative 0.5, 0.75, 0.9, 1).
  const auto logits = log_of({0.1, 0.5, 0.15, 0.25});
  const std::pair<float, std::set<TokenId>> cases[] = {
      {0.3f, {1}}, {0.6f, {1, 3}}, {0.8f, {1, 3, 2}}, {0.95f, {0, 1, 2, 3}}, {1.0f, {0, 1, 2, 3}}};
  for (const auto& [top_p, want] : cases) {
    SamplingParams p;
    p.top_p = top_p;
    Sampler s = make(p, 4);
    const auto dist = s.distribution(logits);
    EXPECT_EQ(support(dist), want) << "top_p " << top_p;
    if (top_p == 0.6f) {
      EXPECT_NEAR(prob_of(dist, 1), 0.5 / 0.75, 1e-6);
      EXPECT_NEAR(prob_of(dist, 3), 0.25 / 0.75, 1e-6);
    }
  }
}

TEST(Sampler, TopPUsesTemperedProbabilities) {
  // Temperature 0.5 squares the probabilities: 0.5, 0.3, 0.2 -> 0.658, 0.237, 0.105.
  const auto logits = log_of({0.5, 0.3, 0.2});
  SamplingParams p;
  p.top_p = 0.6f;
  p.temperature = 0.5f;
  EXPECT_EQ(support(make(p, 3).distribution(logits)), (std::set<TokenId>{0}));
  p.temperature = 1.0f;
  EXPECT_EQ(support(make(p, 3).distribution(logits)), (std::set<TokenId>{0, 1}));
}

TEST(Sampler, MinPKeepsTokensNearTheBest) {
  const auto logits = log_of({0.1, 0.5, 0.15, 0.25});
  const std::pair<float, std::set<TokenId>> cases[] = {
      {0.4f, {1, 3}}, {0.25f, {1, 2, 3}}, {0.1f, {0, 1, 2, 3}}, {1.0f, {1}}};
  for (const auto& [min_p, want] : cases) {
    SamplingParams p;
    p.min_p = min_p;
    Sampler s = make(p, 4);
    EXPECT_EQ(support(s.distribution(logits)), want) << "min_p " << min_p;
  }
}

TEST(Sampler, TemperatureScalesLogits) {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f};
  for (float t : {0.25f, 0.5f, 1.0f, 2.0f, 10.0f}) {
    SamplingParams p;
    p.temperature = t;
    const auto dist = make(p, 3).distribution(logits);
    double z = 0;
    for (float l : logits) z += std::exp(l / t);
    for (TokenId i = 0; i < 3; ++i)
      EXPECT_NEAR(prob_of(dist, i), std::exp(logits[i] / t) / z, 1e-6) << "temperature " << t;
  }
}

TEST(Sampler, FiltersMatchTheReferenceOnRandomLogits) {
  constexpr int kVocab = 3000;
  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  struct Case {
    float temperature;
    int32_t top_k;
    float top_p;
    float min_p;
  };
  const Case cases[] = {{1.0f, 0, 1.0f, 0.0f},  {0.7f, 40, 1.0f, 0.0f},   {1.0f, 0, 0.9f, 0.0f},
                        {1.3f, 0, 0.99f, 0.0f}, {0.8f, 0, 1.0f, 0.05f},   {0.6f, 50, 0.95f, 0.02f},
                        {2.0f, 0, 0.5f, 0.1f},  {1.0f, 2500, 0.97f, 0.0f}};
  for (const Case& c : cases) {
    std::vector<float> logits(kVocab);
    for (float& x : logits) x = normal(rng);
    SamplingParams p;
    p.temperature = c.temperature;
    p.top_k = c.top_k;
    p.top_p = c.top_p;
    p.min_p = c.min_p;
    const auto want = reference_distribution(logits, p);
    const auto got = make(p, kVocab).distribution(logits);
    ASSERT_EQ(got.size(), want.size())
        << "T " << c.temperature << " k " << c.top_k << " p " << c.top_p << " min_p " << c.min_p;
    for (const auto& tp : got) {
      ASSERT_TRUE(want.count(tp.id)) << tp.id;
      EXPECT_NEAR(tp.prob, want.at(tp.id), 1e-6 + 1e-5 * want.at(tp.id));
    }
  }
}

TEST(Sampler, DrawsFollowTheFilteredDistribution) {
  constexpr int kSamples = 20000;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  std::vector<float> logits(64);
  for (float& x : logits) x = normal(rng);

  SamplingParams configs[4];
  configs[1].temperature = 0.7f;
  configs[1].top_k = 10;
  configs[2].top_p = 0.8f;
  configs[2].min_p = 0.1f;
  configs[3].temperature = 1.5f;
  configs[3].top_k = 30;
  configs[3].top_p = 0.9f;
  configs[3].min_p = 0.05f;
  for (int c = 0; c < 4; ++c) {
    configs[c].seed = 100 + c;
    Sampler s = make(configs[c], 64);
    const auto dist = s.distribution(logits);
    std::map<TokenId, int> counts;
    for (int i = 0; i < kSamples; ++i) ++counts[s.sample(logits)];
    int dof = 0;
    const double stat = chi_square(counts, dist, kSamples, &dof);
    EXPECT_LT(stat, chi_square_bound(dof)) << "config " << c << " dof " << dof;

    // The same statistic has power: the unfiltered softmax is rejected for every filtered config.
    if (c == 0) continue;
    const auto unfiltered = make(SamplingParams{}, 64).distribution(logits);
    double plain_stat = 0;
    for (const auto& tp : unfiltered) {
      const double expected = tp.prob * kSamples;
      const double observed = counts.count(tp.id) ? counts.at(tp.id) : 0;
      plain_stat += (observed - expected) * (observed - expected) / expected;
    }
    EXPECT_GT(plain_stat, chi_square_bound(static_cast<int>(unfiltered.size()) - 1))
        << "config " << c;
  }
}

TEST(Sampler, SameSeedSameTokensDifferentSeedsDiffer) {
  constexpr int kVocab = 1000;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  std::vector<std::vector<float>> steps(200, std::vector<float>(kVocab));
  for (auto& logits : steps)
    for (float& x : logits) x = normal(rng);

  SamplingParams p;
  p.top_p = 0.95f;
  p.seed = 42;
  Sampler a = make(p, kVocab), b = make(p, kVocab);
  p.seed = 43;
  Sampler c = make(p, kVocab);
  int differences = 0;
  for (const auto& logits : steps) {
    const TokenId ta = a.sample(logits);
    // Unrelated random activity between the two samplers' draws changes nothing.
    std::mt19937_64 other(std::random_device{}());
    (void)other();
    (void)std::rand();
    EXPECT_EQ(b.sample(logits), ta);
    differences += c.sample(logits) != ta;
    a.accept(ta);
    b.accept(ta);
  }
  EXPECT_GT(differences, 150);
  EXPECT_EQ(a.seed(), 42u);
}

TEST(Sampler, UnseededSamplersDrawTheirOwnSeeds) {
  SamplingParams p;
  Sampler a(p, 10), b(p, 10);
  EXPECT_NE(a.seed(), b.seed());
}

TEST(Sampler, EveryDrawConsumesOneRandomNumber) {
  // Whether a step has one possible token, several, or none, it consumes one draw: samplers with
  // the same seed stay aligned afterwards.
  const std::vector<float> second = {0.5f, 0.4f, 0.3f, 0.2f};
  int same = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    SamplingParams p;
    p.seed = seed;
    Sampler one(p, 4), many(p, 4), none(p, 4);
    (void)one.sample(std::vector<float>{0.0f, -kInf, -kInf, -kInf});
    (void)many.sample(std::vector<float>{0.0f, 1.0f, 2.0f, 3.0f});
    (void)none.sample(std::vector<float>{-kInf, -kInf, -kInf, -kInf});
    const TokenId t = one.sample(second);
    same += (many.sample(second) == t) && (none.sample(second) == t);
  }
  EXPECT_EQ(same, 50);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  Sampler s = make(p, 5);
  s.feed_prompt(std::vector<TokenId>{0, 1});
  s.accept(1);
  s.accept(4);
  const std::vector<float> logits = {2.0f, -2.0f, 1.0f, 0.5f, 0.0f};
  std::vector<float> out(5);
  s.adjusted_logits(logits, out);
  EXPECT_EQ(out, (std::vector<float>{1.0f, -4.0f, 1.0f, 0.5f, 0.0f}));
}

TEST(Sampler, PresenceAndFrequencyPenaltiesFollowOpenAI) {
  SamplingParams p;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  Sampler s = make(p, 4);
  for (TokenId t : {0, 1, 1, 1}) s.accept(t);
  const std::vector<float> logits = {2.0f, -2.0f, 1.0f, 0.5f};
  std::vector<float> out(4);
  s.adjusted_logits(logits, out);
  EXPECT_FLOAT_EQ(out[0], 2.0f - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(out[1], -2.0f - 0.5f - 0.75f);
  EXPECT_FLOAT_EQ(out[2], 1.0f);
  EXPECT_FLOAT_EQ(out[3], 0.5f);
  // Negative values encourage repetition.
  p.presence_penalty = -1.0f;
  p.frequency_penalty = 0.0f;
  Sampler enc = make(p, 4);
  enc.accept(3);
  enc.adjusted_logits(logits, out);
  EXPECT_FLOAT_EQ(out[3], 1.5f);
}

TEST(Sampler, PenaltiesApplyInOrderAfterBias) {
  // bias, then repetition, then presence/frequency: (1 + 3) / 2 - 0.5 - 0.5 * 1 = 1.
  SamplingParams p;
  p.logit_bias = {{0, 3.0f}};
  p.repetition_penalty = 2.0f;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.5f;
  Sampler s = make(p, 2);
  s.accept(0);
  std::vector<float> out(2);
  s.adjusted_logits(std::vector<float>{1.0f, 0.0f}, out);
  EXPECT_FLOAT_EQ(out[0], 1.0f);
  EXPECT_FLOAT_EQ(out[1], 0.0f);
}

TEST(Sampler, PenaltyWindowSeesOnlyTheLastTokens) {
  SamplingParams p;
  p.frequency_penalty = 1.0f;
  p.penalty_last_n = 3;
  Sampler s = make(p, 4);
  s.feed_prompt(std::vector<TokenId>{0, 0, 1});
  s.accept(2);
  s.accept(1);  // window: 1, 2, 1
  std::vector<float> out(4);
  s.adjusted_logits(std::vector<float>(4, 0.0f), out);
  EXPECT_EQ(out, (std::vector<float>{0.0f, -2.0f, -1.0f, 0.0f}));

  p.penalty_last_n = 0;  // off
  Sampler off = make(p, 4);
  off.accept(1);
  off.adjusted_logits(std::vector<float>(4, 0.0f), out);
  EXPECT_EQ(out, std::vector<float>(4, 0.0f));
}

TEST(Sampler, RepetitionPenaltySteersGreedyAwayFromRepeats) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repetition_penalty = 1.5f;
  Sampler s = make(p, 3);
  const std::vector<float> logits = {3.0f, 2.5f, 0.0f};
  const TokenId first = s.sample(logits);
  EXPECT_EQ(first, 0);
  s.accept(first);
  EXPECT_EQ(s.sample(logits), 1);  // 3 / 1.5 = 2 < 2.5
}

TEST(Sampler, LogitBiasOfHundredForcesOrForbids) {
  const std::vector<float> logits = {5.0f, 4.0f, 3.0f, 2.0f};
  SamplingParams p;
  p.logit_bias = {{0, -100.0f}, {3, 100.0f}};
  Sampler forced = make(p, 4);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(forced.sample(logits), 3);
  p.logit_bias = {{0, -100.0f}};
  p.temperature = 2.0f;
  Sampler forbidden = make(p, 4);
  std::set<TokenId> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(forbidden.sample(logits));
  EXPECT_EQ(seen, (std::set<TokenId>{1, 2, 3}));
  p.temperature = 0.0f;
  EXPECT_EQ(make(p, 4).sample(logits), 1);
}

TEST(Sampler, MaskedAndNanTokensAreNeverDrawn) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> logits = {nan, -kInf, 0.0f, 0.0f, -kInf};
  SamplingParams p;
  p.temperature = 3.0f;
  Sampler s = make(p, 5);
  for (int i = 0; i < 500; ++i) {
    const TokenId t = s.sample(logits);
    ASSERT_TRUE(t == 2 || t == 3) << t;
  }
  p.temperature = 0.0f;
  EXPECT_EQ(make(p, 5).sample(std::vector<float>{nan, 1.0f, 2.0f, nan, -kInf}), 2);
}

TEST(Sampler, DegenerateLogits) {
  SamplingParams p;
  Sampler s = make(p, 3);
  EXPECT_EQ(s.sample(std::vector<float>{-kInf, -kInf, -kInf}), 0);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(s.sample(std::vector<float>{1.0f, kInf, 1e30f}), 1);
  p.temperature = 1e-6f;
  Sampler cold = make(p, 3);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(cold.sample(std::vector<float>{1.0f, 1.001f, 0.0f}), 1);
}

TEST(Sampler, LogprobsComeFromTheRawLogits) {
  constexpr int kVocab = 500;
  std::mt19937 rng(8);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> logits(kVocab);
  for (float& x : logits) x = normal(rng);
  SamplingParams p;
  p.temperature = 0.3f;
  p.top_k = 5;
  p.repetition_penalty = 1.3f;
  p.logit_bias = {{7, 20.0f}};
  p.num_top_logprobs = 5;
  Sampler s = make(p, kVocab);
  s.accept(3);
  for (int i = 0; i < 10; ++i) {
    const TokenId t = s.sample(logits);
    const TokenLogprobs& lp = s.last_logprobs();
    const TokenLogprobs want = token_logprobs(logits, t, 5);
    EXPECT_EQ(lp.chosen.id, t);
    EXPECT_EQ(lp.chosen.logprob, want.chosen.logprob);
    ASSERT_EQ(lp.num_top, 5);
    for (int j = 0; j < 5; ++j) {
      EXPECT_EQ(lp.top[j].id, want.top[j].id);
      EXPECT_EQ(lp.top[j].logprob, want.top[j].logprob);
    }
  }
  SamplingParams quiet;
  Sampler none = make(quiet, kVocab);
  (void)none.sample(logits);
  EXPECT_EQ(none.last_logprobs().num_top, 0);
  quiet.logprobs = true;
  Sampler chosen_only = make(quiet, kVocab);
  const TokenId t = chosen_only.sample(logits);
  EXPECT_EQ(chosen_only.last_logprobs().chosen.id, t);
  EXPECT_EQ(chosen_only.last_logprobs().num_top, 0);
  EXPECT_LT(chosen_only.last_logprobs().chosen.logprob, 0.0f);
}

TEST(Sampler, CreateRejectsInvalidParams) {
  SamplingParams p;
  p.top_p = 0.0f;
  auto s = Sampler::create(p, 10);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("top_p"), std::string::npos);
}

TEST(Sampler, LargeVocabularyTopP) {
  // A flat distribution over 150k tokens needs many chunks of the partial sort.
  constexpr int kVocab = 150000;
  std::vector<float> logits(kVocab);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uni(0.0f, 0.1f);
  for (float& x : logits) x = uni(rng);
  SamplingParams p;
  p.top_p = 0.5f;
  const auto want = reference_distribution(logits, p);
  const auto got = make(p, kVocab).distribution(logits);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& tp : got) ASSERT_TRUE(want.count(tp.id));
}

}  // namespace
}  // namespace inferd
