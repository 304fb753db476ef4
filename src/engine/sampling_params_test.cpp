#include "inferd/sampling_params.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace inferd {
namespace {

constexpr int kVocab = 100;

// Expects InvalidArgument whose message names `field`.
void expect_rejected(const SamplingParams& p, const std::string& field) {
  const Status st = p.validate(kVocab);
  ASSERT_FALSE(st.ok()) << "accepted a bad " << field;
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find(field), std::string::npos) << st.message();
}

TEST(SamplingParams, DefaultsAreValidAndNeutral) {
  SamplingParams p;
  EXPECT_TRUE(p.validate(kVocab).ok());
  EXPECT_FALSE(p.is_greedy());
  EXPECT_FALSE(p.has_penalties());
  EXPECT_FALSE(p.wants_logprobs());
  EXPECT_FALSE(p.seed.has_value());
}

TEST(SamplingParams, AcceptsBoundaryValues) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.top_p = 1.0f;
  p.min_p = 1.0f;
  p.presence_penalty = -2.0f;
  p.frequency_penalty = 2.0f;
  p.penalty_last_n = 0;
  p.logit_bias = {{0, -100.0f}, {kVocab - 1, 100.0f}};
  p.num_top_logprobs = 20;
  EXPECT_TRUE(p.validate(kVocab).ok()) << p.validate(kVocab).to_string();
  EXPECT_TRUE(p.is_greedy());
  EXPECT_TRUE(p.wants_logprobs());
}

TEST(SamplingParams, NamesTheBadField) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  auto with = [](auto set) {
    SamplingParams p;
    set(p);
    return p;
  };
  expect_rejected(with([](auto& p) { p.temperature = -0.5f; }), "temperature");
  expect_rejected(with([&](auto& p) { p.temperature = nan; }), "temperature");
  expect_rejected(with([&](auto& p) { p.temperature = inf; }), "temperature");
  expect_rejected(with([](auto& p) { p.top_k = -1; }), "top_k");
  expect_rejected(with([](auto& p) { p.top_p = 0.0f; }), "top_p");
  expect_rejected(with([](auto& p) { p.top_p = 1.5f; }), "top_p");
  expect_rejected(with([&](auto& p) { p.top_p = nan; }), "top_p");
  expect_rejected(with([](auto& p) { p.min_p = -0.1f; }), "min_p");
  expect_rejected(with([](auto& p) { p.min_p = 1.01f; }), "min_p");
  expect_rejected(with([](auto& p) { p.repetition_penalty = 0.0f; }), "repetition_penalty");
  expect_rejected(with([&](auto& p) { p.repetition_penalty = inf; }), "repetition_penalty");
  expect_rejected(with([](auto& p) { p.presence_penalty = 2.5f; }), "presence_penalty");
  expect_rejected(with([&](auto& p) { p.presence_penalty = nan; }), "presence_penalty");
  expect_rejected(with([](auto& p) { p.frequency_penalty = -3.0f; }), "frequency_penalty");
  expect_rejected(with([](auto& p) { p.penalty_last_n = -2; }), "penalty_last_n");
  expect_rejected(with([](auto& p) {
                    p.logit_bias = {{kVocab, 1.0f}};
                  }),
                  "logit_bias token id 100");
  expect_rejected(with([](auto& p) { p.logit_bias = {{-1, 1.0f}}; }), "logit_bias token id -1");
  expect_rejected(with([](auto& p) { p.logit_bias = {{3, 100.5f}}; }), "logit_bias for token 3");
  expect_rejected(with([&](auto& p) { p.logit_bias = {{3, nan}}; }), "logit_bias for token 3");
  expect_rejected(with([](auto& p) {
                    p.logit_bias = {{5, 1.0f}, {7, 1.0f}, {5, 2.0f}};
                  }),
                  "logit_bias lists token 5 more than once");
  expect_rejected(with([](auto& p) { p.num_top_logprobs = 21; }), "top_logprobs");
  expect_rejected(with([](auto& p) { p.num_top_logprobs = -1; }), "top_logprobs");
}

TEST(SamplingParams, MessagesShowTheValue) {
  SamplingParams p;
  p.top_p = 1.5f;
  EXPECT_EQ(p.validate(kVocab).message(), "top_p must be in (0, 1], got 1.5");
  p = SamplingParams{};
  p.logit_bias = {{kVocab, 1.0f}};
  EXPECT_EQ(p.validate(kVocab).message(), "logit_bias token id 100 is out of range [0, 100)");
}

TEST(SamplingParams, RejectsEmptyVocabulary) {
  EXPECT_FALSE(SamplingParams{}.validate(0).ok());
}

TEST(SamplingParams, PenaltiesNeedAWindow) {
  SamplingParams p;
  p.repetition_penalty = 1.1f;
  EXPECT_TRUE(p.has_penalties());
  p.penalty_last_n = 0;
  EXPECT_FALSE(p.has_penalties());
}

}  // namespace
}  // namespace inferd
