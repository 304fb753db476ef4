#include "model/rope.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/hf_config.h"

namespace inferd::model {
namespace {

using json = nlohmann::json;

HParams small_hparams() {
  HParams hp;
  hp.arch = find_arch("llama");
  hp.rope_style = RopeStyle::kNeox;
  hp.n_rot = 8;
  hp.head_dim_k = 8;
  hp.rope_base = 10000.0f;
  return hp;
}

// Dynamic NTK with factor 2 over an original context of 4096, evaluated for 2 x 4096 tokens:
// base' = 10000 * (2 * 8192 / 4096 - 1)^(8 / 6) = 10000 * 3^(4/3), so inverse frequency i is
// base'^(-2i/8) = 10^-i * 3^(-i/3).
TEST(Rope, DynamicNtkFrequencies) {
  HParams hp = small_hparams();
  hp.rope_scaling = RopeScaling::kDynamic;
  hp.rope_scale_factor = 2.0f;
  hp.rope_orig_ctx = 4096;
  const Rope rope(hp, hp.rope_base, nullptr);
  const double want[] = {1.0, 0.06933612743506347, 0.004807498567691361, 1.0 / 3000.0};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(rope.inv_freq(i), want[i], 1e-6 * want[i]) << i;
  EXPECT_FLOAT_EQ(rope.magnitude(), 1.0f);
}

// Phi-3 style LongRoPE: inverse frequencies 10000^(-2i/8) = 10^-i divided by the chosen factors,
// cos and sin scaled by sqrt(1 + ln(131072 / 4096) / ln(4096)) = sqrt(1 + 5/12).
TEST(Rope, LongRopeFrequenciesAndMagnitude) {
  json j = {{"architectures", {"Phi3ForCausalLM"}},
            {"hidden_size", 32},
            {"num_hidden_layers", 1},
            {"intermediate_size", 64},
            {"num_attention_heads", 4},
            {"vocab_size", 100},
            {"max_position_embeddings", 131072},
            {"original_max_position_embeddings", 4096},
            {"rope_theta", 10000.0},
            {"rope_scaling",
             {{"type", "longrope"},
              {"short_factor", {1.0, 1.5, 1.5, 2.0}},
              {"long_factor", {1.0, 2.0, 4.0, 8.0}}}}};
  auto c = parse_hf_config(j, nullptr, "phi");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->hp.rope_scaling, RopeScaling::kLongRope);
  ASSERT_EQ(c->rope_freq_factors, (std::vector<float>{1.0f, 2.0f, 4.0f, 8.0f}));
  const Rope rope(c->hp, c->hp.rope_base, c->rope_freq_factors.data());
  const double want[] = {1.0, 0.05, 0.0025, 0.000125};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(rope.inv_freq(i), want[i], 1e-6 * want[i]) << i;
  EXPECT_NEAR(rope.magnitude(), 1.1902380714238083, 1e-6);
  float cs[8];
  rope.angles(3, cs);
  EXPECT_NEAR(cs[2], std::cos(3 * 0.05) * 1.1902380714238083, 1e-6);
  EXPECT_NEAR(cs[3], std::sin(3 * 0.05) * 1.1902380714238083, 1e-6);

  // A model whose context is the original one uses the short factors, and an explicit
  // attention_factor wins over the default.
  j["max_position_embeddings"] = 4096;
  j["rope_scaling"]["attention_factor"] = 1.25;
  c = parse_hf_config(j, nullptr, "phi");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->rope_freq_factors, (std::vector<float>{1.0f, 1.5f, 1.5f, 2.0f}));
  EXPECT_FLOAT_EQ(c->hp.rope_attn_factor, 1.25f);
}

}  // namespace
}  // namespace inferd::model
