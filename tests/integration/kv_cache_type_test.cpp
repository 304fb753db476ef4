// The Q8_0 KV cache against the f16 one: the same teacher-forced logits within a small tolerance
// on every fixture, nearly twice the blocks in the same memory, greedy tokens that do not depend
// on the batch, and a clear error for models whose heads do not fit its 32-element blocks.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "inferd/engine_loop.h"
#include "model/synth_model.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

// Teacher-forced logits of the first reference case (prompt + greedy continuation).
std::vector<std::vector<float>> reference_case_logits(const std::shared_ptr<const Model>& model,
                                                      const nlohmann::json& ref, KvCacheType type) {
  auto ctx = Context::create(model, {.ctx_size = 256, .max_batch = 64, .num_threads = 2, .kv_type = type});
  EXPECT_TRUE(ctx.ok()) << ctx.status().to_string();
  if (!ctx.ok()) return {};
  const auto& c = ref["cases"][0];
  auto all = c["prompt_tokens"].get<std::vector<TokenId>>();
  const size_t n_prompt = all.size();
  const auto greedy = c["greedy"].get<std::vector<TokenId>>();
  all.insert(all.end(), greedy.begin(), greedy.end() - 1);
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < all.size(); ++i) batch.push_back({all[i], static_cast<int32_t>(i), 0, i + 1 >= n_prompt});
  EXPECT_TRUE((*ctx)->decode(batch).ok());
  std::vector<std::vector<float>> out;
  for (int64_t i = 0; i < (*ctx)->num_outputs(); ++i) {
    const auto l = (*ctx)->logits(i);
    out.emplace_back(l.begin(), l.end());
  }
  return out;
}

TEST(KvCacheTypeTest, Q8_0LogitsStayWithinTwoTenthsOfF16OnEveryFixture) {
  INFERD_REQUIRE_SHARED(ref_dir, "fixtures/ref");
  int models = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ref_dir)) {
    const std::string name = entry.path().stem().string();
    INFERD_REQUIRE_SHARED(model_path, "fixtures/" + name + ".gguf");
    std::ifstream in(entry.path());
    const auto ref = nlohmann::json::parse(in);
    auto model = Model::load(model_path.string());
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    const auto f16 = reference_case_logits(*model, ref, KvCacheType::kF16);
    const auto q8 = reference_case_logits(*model, ref, KvCacheType::kQ8_0);
    ASSERT_EQ(f16.size(), q8.size());
    ASSERT_FALSE(f16.empty());
    float worst = 0.0f;
    for (size_t step = 0; step < f16.size(); ++step)
      for (size_t v = 0; v < f16[step].size(); ++v) worst = std::max(worst, std::fabs(f16[step][v] - q8[step][v]));
    EXPECT_LE(worst, 0.2f) << name;  // 0.04-0.14 measured
    std::printf("%s: largest logit difference q8_0 vs f16 KV %.4f\n", name.c_str(), worst);
    ++models;
  }
  EXPECT_GE(models, 8);
}

TEST(KvCacheTypeTest, Q8_0HoldsNearlyTwiceTheBlocksOfF16InTheSameBudget) {
  INFERD_REQUIRE_SHARED(path, "fixtures/fixture-qwen2-q8_0.gguf");
  auto model = Model::load(path.string());
  ASSERT_TRUE(model.ok());
  const int64_t budget = int64_t{8} << 20;
  auto f16 = EngineLoop::create(*model, {.max_slots = 2, .ctx_per_slot = 64, .num_threads = 1, .kv_budget_bytes = budget});
  auto q8 = EngineLoop::create(*model, {.max_slots = 2, .ctx_per_slot = 64, .num_threads = 1, .kv_budget_bytes = budget,
                                        .kv_type = KvCacheType::kQ8_0});
  ASSERT_TRUE(f16.ok() && q8.ok());
  const double ratio = static_cast<double>((*q8)->stats().kv_blocks_total) / static_cast<double>((*f16)->stats().kv_blocks_total);
  EXPECT_GE(ratio, 1.85);  // 64 / 34 bytes per 32 elements = 1.88
  EXPECT_LE(ratio, 1.9);
}

class Collect : public GenerationSink {
 public:
  void on_token(TokenId t, std::string_view, const TokenLogprobs*) override {
    std::lock_guard<std::mutex> lock(mu_);
    tokens.push_back(t);
  }
  void on_finish(const GenerationResult&) override {
    std::lock_guard<std::mutex> lock(mu_);
    done = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done; });
  }
  std::vector<TokenId> tokens;
  bool done = false;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

TEST(KvCacheTypeTest, Q8_0GreedyTokensAloneEqualTokensAmongConcurrentRequests) {
  INFERD_REQUIRE_SHARED(path, "fixtures/fixture-llama-q8_0.gguf");
  auto model = Model::load(path.string());
  ASSERT_TRUE(model.ok());
  auto loop = EngineLoop::create(*model, {.max_slots = 4, .ctx_per_slot = 128, .num_threads = 2,
                                          .kv_type = KvCacheType::kQ8_0});
  ASSERT_TRUE(loop.ok()) << loop.status().to_string();
  const char* texts[] = {"Once upon a time", "The capital of France is", "def fibonacci(n):", "Roses are red"};
  const auto run = [&](const std::vector<TokenId>& prompt) {
    GenerationRequest r;
    r.prompt = prompt;
    r.sampling.temperature = 0.0f;
    r.max_tokens = 12;
    r.ignore_eos = true;
    auto sink = std::make_shared<Collect>();
    EXPECT_TRUE((*loop)->submit(std::move(r), sink).ok());
    return sink;
  };
  std::vector<std::vector<TokenId>> alone;
  for (const char* t : texts) {
    auto s = run((*model)->tokenize(t, true, false));
    s->wait();
    alone.push_back(s->tokens);
  }
  std::vector<std::shared_ptr<Collect>> together;
  for (const char* t : texts) together.push_back(run((*model)->tokenize(t, true, false)));
  for (size_t i = 0; i < together.size(); ++i) {
    together[i]->wait();
    EXPECT_EQ(together[i]->tokens, alone[i]) << texts[i];
  }
}

TEST(KvCacheTypeTest, Q8_0IsRefusedWhenHeadsDoNotFillWholeBlocks) {
  model::SynthOptions o;
  o.dim = 96;
  o.heads = 4;  // heads of 24 elements
  o.kv_heads = 2;
  o.ffn = 128;
  o.vocab = 300;
  o.context = 128;
  const auto path = (std::filesystem::temp_directory_path() / "inferd-kv-type-head24.gguf").string();
  ASSERT_TRUE(model::write_synth_model(o, path).ok());
  auto model = Model::load(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto loop = EngineLoop::create(*model, {.max_slots = 1, .ctx_per_slot = 64, .kv_type = KvCacheType::kQ8_0});
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find("multiples of 32"), std::string::npos) << loop.status().to_string();
  EXPECT_TRUE(EngineLoop::create(*model, {.max_slots = 1, .ctx_per_slot = 64}).ok());
}

TEST(KvCacheTypeTest, NamesParseBack) {
  for (KvCacheType t : {KvCacheType::kF16, KvCacheType::kQ8_0}) EXPECT_EQ(parse_kv_cache_type(kv_cache_type_name(t)), t);
  EXPECT_FALSE(parse_kv_cache_type("q4_0").has_value());
}

}  // namespace
}  // namespace inferd
