// Greedy output does not depend on the batch: each fixture model gives a request the same tokens
// alone and among 8 concurrent requests (continuous batching, paged KV, prefix sharing). And
// after thousands of random submissions and cancellations under a small KV pool, every block is
// back (free + cached == total, none used).
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>

#include <gtest/gtest.h>

#include "base/thread_pool.h"
#include "inferd/engine_loop.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

class Collect : public GenerationSink {
 public:
  void on_token(TokenId t, std::string_view, const TokenLogprobs*) override {
    std::lock_guard<std::mutex> lock(mu_);
    tokens.push_back(t);
  }
  void on_finish(const GenerationResult& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    result = r;
    done = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done; });
  }
  std::vector<TokenId> tokens;
  GenerationResult result;
  bool done = false;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

GenerationRequest greedy(std::vector<TokenId> prompt, int64_t n) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.max_tokens = n;
  r.ignore_eos = true;
  return r;
}

std::vector<std::vector<TokenId>> prompts_for(const Model& m) {
  const char* texts[] = {"Once upon a time",           "The capital of France is",
                         "def fibonacci(n):",          "In 1905, Albert Einstein",
                         "Roses are red, violets are", "The quick brown fox",
                         "Hello, world! 123",          "A long time ago in a galaxy"};
  std::vector<std::vector<TokenId>> out;
  for (const char* t : texts) out.push_back(m.tokenize(t, true, false));
  return out;
}

TEST(BatchDeterminismTest, GreedyTokensAloneEqualTokensAmongEightConcurrentRequests) {
  INFERD_REQUIRE_SHARED(dir, "fixtures");
  int models = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".gguf") continue;
    auto model = Model::load(entry.path().string());
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    auto loop = EngineLoop::create(*model, {.max_slots = 8, .ctx_per_slot = 128, .num_threads = 2});
    ASSERT_TRUE(loop.ok());
    const auto prompts = prompts_for(**model);
    std::vector<std::vector<TokenId>> alone;
    for (const auto& p : prompts) {
      auto sink = std::make_shared<Collect>();
      ASSERT_TRUE((*loop)->submit(greedy(p, 12), sink).ok());
      sink->wait();
      alone.push_back(sink->tokens);
    }
    std::vector<std::shared_ptr<Collect>> sinks;
    for (const auto& p : prompts) {
      sinks.push_back(std::make_shared<Collect>());
      ASSERT_TRUE((*loop)->submit(greedy(p, 12), sinks.back()).ok());
    }
    for (size_t i = 0; i < sinks.size(); ++i) {
      sinks[i]->wait();
      EXPECT_EQ(sinks[i]->tokens, alone[i]) << entry.path().filename() << " prompt " << i;
    }
    ++models;
  }
  EXPECT_GE(models, 8);
}

// Logits of each fixture model are bit-identical whether a prompt runs in one forward pass or
// one token per pass on two threads (the single-token path, where every thread keeps its own
// copy of the residual stream).
TEST(BatchDeterminismTest, LogitsOfOneTokenPerPassEqualOneBatch) {
  INFERD_REQUIRE_SHARED(dir, "fixtures");
  int models = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".gguf") continue;
    auto model = model::Model::load(entry.path().string());
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    const model::HParams& hp = (*model)->hparams();
    const int64_t n = 12;
    std::vector<int32_t> prompt;
    for (int64_t i = 0; i < n; ++i)
      prompt.push_back(static_cast<int32_t>((1 + 37 * i) % hp.n_vocab));
    ThreadPool pool(2);
    const auto logits = [&](bool one_batch) {
      model::KvCache kv(hp, 2, 16, 1);
      const std::vector<int32_t> blocks{0, 1};
      kv.set_table(0, blocks);
      model::ForwardScratch scratch(hp, n, 32, 2);
      std::vector<model::BatchToken> batch;
      for (int64_t i = 0; i < n; ++i)
        batch.push_back({.token = prompt[i], .pos = static_cast<int32_t>(i), .want_logits = true});
      std::vector<float> out(static_cast<size_t>(n * hp.n_vocab));
      for (int64_t i = 0; i < n; i += one_batch ? n : 1) {
        const int64_t count = one_batch ? n : 1;
        const Status st = (*model)->transformer().forward(
            std::span(batch).subspan(i, count), kv, scratch, pool, out.data() + i * hp.n_vocab);
        EXPECT_TRUE(st.ok()) << st.to_string();
      }
      return out;
    };
    EXPECT_EQ(logits(false), logits(true)) << entry.path().filename();
    ++models;
  }
  EXPECT_GE(models, 8);
}

TEST(BatchDeterminismTest, RandomSubmitAndCancelLeaveThePoolWhole) {
  INFERD_REQUIRE_SHARED(path, "fixtures/llama-2-tiny-random.gguf");
  auto model = Model::load(path.string());
  ASSERT_TRUE(model.ok());
  // The default pool (6 contexts of 128) holds 48 blocks; six requests of up to 130 positions
  // can want 54, so some are preempted.
  auto loop = EngineLoop::create(*model, {.max_slots = 6, .ctx_per_slot = 128, .num_threads = 2});
  ASSERT_TRUE(loop.ok());
  std::mt19937 rng(29);
  // Prompts start with part of one of three long texts, so many share whole blocks.
  std::vector<std::vector<TokenId>> bases(3);
  for (auto& b : bases)
    for (int i = 0; i < 80; ++i) b.push_back(static_cast<TokenId>(100 + rng() % 200));
  std::vector<std::pair<uint64_t, std::shared_ptr<Collect>>> live;
  for (int op = 0; op < 600; ++op) {
    if (live.empty() || rng() % 3 != 0) {
      std::vector<TokenId> prompt = {1};
      const auto& base = bases[rng() % bases.size()];
      prompt.insert(prompt.end(), base.begin(),
                    base.begin() + static_cast<std::ptrdiff_t>(rng() % base.size()));
      for (int i = static_cast<int>(rng() % 8); i > 0; --i)
        prompt.push_back(static_cast<TokenId>(300 + rng() % 50));
      auto sink = std::make_shared<Collect>();
      auto id = (*loop)->submit(greedy(prompt, 1 + static_cast<int64_t>(rng() % 40)), sink);
      if (id.ok()) live.emplace_back(*id, sink);
    } else {
      const size_t k = rng() % live.size();
      (*loop)->cancel(live[k].first);
    }
    if (live.size() > 64) {
      live.front().second->wait();
      live.erase(live.begin());
    }
  }
  for (auto& [id, sink] : live) sink->wait();
  const EngineStats s = (*loop)->stats();
  EXPECT_EQ(s.running, 0);
  EXPECT_EQ(s.kv_blocks_used, 0);
  EXPECT_LE(s.kv_blocks_cached, s.kv_blocks_total);
  EXPECT_GT(s.prefix_hits, 0);
}

}  // namespace
}  // namespace inferd
