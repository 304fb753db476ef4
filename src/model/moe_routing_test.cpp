#include "model/moe_routing.h"

#include <cmath>

#include <gtest/gtest.h>

namespace inferd::model {
namespace {

// softmax([0, ln 2, ln 4, ln 3]) = [1, 2, 4, 3] / 10; the top 2 are experts 2 and 3.
TEST(MoeRouting, SoftmaxTopKAndRenormalisation) {
  const float logits[] = {0.0f, std::log(2.0f), std::log(4.0f), std::log(3.0f)};
  int32_t experts[2];
  float weights[2];
  moe_route_token(logits, 4, 2, /*normalize=*/false, experts, weights);
  EXPECT_EQ(experts[0], 2);
  EXPECT_EQ(experts[1], 3);
  EXPECT_NEAR(weights[0], 0.4f, 1e-6f);
  EXPECT_NEAR(weights[1], 0.3f, 1e-6f);
  moe_route_token(logits, 4, 2, /*normalize=*/true, experts, weights);
  EXPECT_NEAR(weights[0], 4.0f / 7.0f, 1e-6f);
  EXPECT_NEAR(weights[1], 3.0f / 7.0f, 1e-6f);
  // k == n_expert keeps every expert; renormalised weights are then the softmax itself.
  int32_t all[4];
  float all_w[4];
  moe_route_token(logits, 4, 4, /*normalize=*/true, all, all_w);
  EXPECT_EQ(all[3], 0);
  EXPECT_NEAR(all_w[3], 0.1f, 1e-6f);
}

TEST(MoeRouting, TiesGoToTheLowerExpert) {
  const float logits[] = {1.0f, 3.0f, 3.0f, 3.0f, -2.0f};
  int32_t experts[2];
  float weights[2];
  moe_route_token(logits, 5, 2, false, experts, weights);
  EXPECT_EQ(experts[0], 1);
  EXPECT_EQ(experts[1], 2);
  EXPECT_EQ(weights[0], weights[1]);
}

TEST(MoeRouting, GroupsTokensByExpertInTokenOrder) {
  MoeRouting r(/*max_tokens=*/4, /*n_expert=*/5, /*k=*/2);
  const int32_t choices[] = {3, 0, 0, 3, 4, 1, 3, 4};  // tokens 0..3, two experts each
  for (int i = 0; i < 8; ++i) {
    r.token_experts()[i] = choices[i];
    r.token_weights()[i] = 0.1f * static_cast<float>(i + 1);
  }
  r.group_by_expert(4);
  struct Want {
    int expert;
    std::vector<int32_t> tokens;
    std::vector<float> weights;
  };
  const Want want[] = {{0, {0, 1}, {0.2f, 0.3f}},
                       {1, {2}, {0.6f}},
                       {2, {}, {}},
                       {3, {0, 1, 3}, {0.1f, 0.4f, 0.7f}},
                       {4, {2, 3}, {0.5f, 0.8f}}};
  for (const Want& w : want) {
    ASSERT_EQ(r.end(w.expert) - r.begin(w.expert), static_cast<int64_t>(w.tokens.size()))
        << w.expert;
    for (size_t i = 0; i < w.tokens.size(); ++i) {
      EXPECT_EQ(r.entry_tokens()[r.begin(w.expert) + i], w.tokens[i]) << w.expert;
      EXPECT_FLOAT_EQ(r.entry_weights()[r.begin(w.expert) + i], w.weights[i]) << w.expert;
    }
  }
  // Regrouping a smaller batch reuses the buffers.
  r.group_by_expert(1);
  EXPECT_EQ(r.end(3) - r.begin(3), 1);
  EXPECT_EQ(r.end(0) - r.begin(0), 1);
  EXPECT_EQ(r.end(4), 2);
}

}  // namespace
}  // namespace inferd::model
