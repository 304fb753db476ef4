// Teacher-forced logits of every fixture model against llama.cpp's reference (fixtures/ref):
// prompt + the reference's greedy tokens are evaluated in one batch and, at each of the 16
// steps, the reference's top-5 logits must match within the type's tolerance, and the greedy
// choice must match wherever the reference's top-1 leads its top-2 by more than the tolerance.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "inferd/engine.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

struct Fixture {
  const char* model;
  float tolerance;  // from the acceptance criteria of the engine
};

constexpr Fixture kFixtures[] = {
    {"fixture-llama-f16", 0.02f},   {"fixture-llama-q8_0", 0.05f},
    {"fixture-llama-q4_0", 0.15f},  {"fixture-llama-q4_k_m", 0.15f},
    {"fixture-llama-q6_k", 0.15f},  {"fixture-qwen2-q8_0", 0.05f},
    {"fixture-gemma2-q8_0", 0.02f}, {"fixture-phi3-q8_0", 0.05f},
};

void PrintTo(const Fixture& f, std::ostream* os) { *os << f.model; }

class ReferenceLogits : public ::testing::TestWithParam<Fixture> {};

TEST_P(ReferenceLogits, TeacherForcedTop5MatchesLlamaCpp) {
  const Fixture fx = GetParam();
  INFERD_REQUIRE_SHARED(ref_path, std::string("fixtures/ref/") + fx.model + ".json");
  INFERD_REQUIRE_SHARED(model_path, std::string("fixtures/") + fx.model + ".gguf");
  std::ifstream in(ref_path);
  const auto ref = nlohmann::json::parse(in);

  auto model = Model::load(model_path.string());
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto ctx = Context::create(*model, {.ctx_size = 256, .max_batch = 64, .num_threads = 2});
  ASSERT_TRUE(ctx.ok()) << ctx.status().to_string();

  float worst = 0.0f;
  for (const auto& c : ref["cases"]) {
    const auto prompt = c["prompt_tokens"].get<std::vector<TokenId>>();
    const auto greedy = c["greedy"].get<std::vector<TokenId>>();
    std::vector<BatchEntry> batch;
    std::vector<TokenId> all = prompt;
    all.insert(all.end(), greedy.begin(), greedy.end() - 1);
    for (size_t i = 0; i < all.size(); ++i)
      batch.push_back({all[i], static_cast<int32_t>(i), 0, i + 1 >= prompt.size()});
    ASSERT_TRUE((*ctx)->decode(batch).ok());
    ASSERT_EQ((*ctx)->num_outputs(), static_cast<int64_t>(greedy.size()));

    for (size_t step = 0; step < greedy.size(); ++step) {
      auto logits = (*ctx)->logits(static_cast<int64_t>(step));
      const auto& top5 = c["top5"][step];
      for (const auto& entry : top5) {
        const TokenId id = entry[0].get<TokenId>();
        const float want = entry[1].get<float>();
        const float diff = std::fabs(logits[id] - want);
        worst = std::max(worst, diff);
        EXPECT_LE(diff, fx.tolerance) << fx.model << " prompt '" << c["prompt"].get<std::string>()
                                      << "' step " << step << " token " << id;
      }
      const float lead = top5[0][1].get<float>() - top5[1][1].get<float>();
      if (lead > fx.tolerance) {
        const auto argmax = std::max_element(logits.begin(), logits.end()) - logits.begin();
        EXPECT_EQ(argmax, greedy[step]) << fx.model << " step " << step;
      }
    }
  }
  std::printf("%s: largest top-5 logit difference %.4f (tolerance %.2f)\n", fx.model, worst, fx.tolerance);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ReferenceLogits, ::testing::ValuesIn(kFixtures),
                         [](const auto& info) {
                           std::string n = info.param.model;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace inferd
