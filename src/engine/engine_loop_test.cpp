#include "inferd/engine_loop.h"

#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <mutex>

#include "engine/engine_loop_testing.h"
#include "inferd/text_stream.h"
#include "testing/poisoned_model.h"

namespace inferd {
namespace {

TEST_F(EngineLoopTest, GreedyMatchesDirectDecoding) {
  auto loop = EngineLoop::create(*model_, {.max_slots = 2, .ctx_per_slot = 128, .num_threads = 2});
  ASSERT_TRUE(loop.ok());
  const std::vector<TokenId> prompt = {1, 300, 301, 302, 303};
  auto sink = std::make_shared<CollectingSink>();
  ASSERT_TRUE((*loop)->submit(greedy(prompt, 12), sink).ok());
  sink->wait();
  EXPECT_EQ(sink->result.reason, FinishReason::kLength);
  EXPECT_EQ(sink->result.prompt_tokens, 5);
  EXPECT_EQ(sink->result.completion_tokens, 12);
  EXPECT_EQ(sink->tokens, reference_greedy(prompt, 12));
  // The text is what a continuation stream of those tokens releases.
  TextStream stream(**model_, true, false);
  std::string expect;
  for (TokenId t : sink->tokens) stream.push(t, expect);
  stream.flush(expect);
  EXPECT_EQ(sink->text, expect);
}

// A model whose output norm is NaN computes NaN logits and embeddings: the requests end with an
// error instead of sampling noise, and the loop goes on serving.
TEST_F(EngineLoopTest, NonFiniteOutputsEndTheRequestWithAnError) {
  // F16 weights keep NaN in their products; Q8_0 ones multiply int8-quantized activations,
  // which would turn it into ordinary values if the model did not check its hidden states.
  for (backend::DType type : {backend::DType::kF16, backend::DType::kQ8_0}) {
    SCOPED_TRACE(backend::dtype_name(type));
    const auto dir = ::inferd::testing::temp_dir();
    ASSERT_TRUE(model::write_synth_model(synth_options(type), (dir / "source.gguf").string()).ok());
    const auto path = dir / "poisoned.gguf";
    const Status st =
        ::inferd::testing::write_poisoned_copy(dir / "source.gguf", path, "output_norm.weight");
    ASSERT_TRUE(st.ok()) << st.to_string();
    auto model = Model::load(path.string());
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    auto loop = EngineLoop::create(*model, {.max_slots = 2, .ctx_per_slot = 128, .num_threads = 1});
    ASSERT_TRUE(loop.ok());
    for (int round = 0; round < 2; ++round) {
      auto sink = std::make_shared<CollectingSink>();
      ASSERT_TRUE((*loop)->submit(greedy({1, 300, 301}, 4), sink).ok());
      sink->wait();
      EXPECT_EQ(sink->result.reason, FinishReason::kError);
      EXPECT_NE(sink->result.error.message().find("non-finite logits"), std::string::npos)
          << sink->result.error.to_string();
      EXPECT_TRUE(sink->tokens.empty());
    }
    GenerationRequest r;
    r.prompt = {1, 300, 301};
    r.embedding = true;
    auto sink = std::make_shared<CollectingSink>();
    ASSERT_TRUE((*loop)->submit(std::move(r), sink).ok());
    sink->wait();
    EXPECT_EQ(sink->result.reason, FinishReason::kError);
    EXPECT_TRUE(sink->embedding.empty());
  }
}

TEST_F(EngineLoopTest, ConcurrentRequestsGiveTheSameTokensAsAlone) {
  // More requests than slots, with prompts longer than the batch budget (chunked prefill).
  auto loop = EngineLoop::create(
      *model_, {.max_slots = 3, .ctx_per_slot = 128, .max_batch_tokens = 16, .num_threads = 2});
  ASSERT_TRUE(loop.ok());
  std::vector<std::vector<TokenId>> prompts;
  std::vector<std::shared_ptr<CollectingSink>> sinks;
  for (int r = 0; r < 7; ++r) {
    std::vector<TokenId> p = {1};
    for (int i = 0; i < 5 + 7 * r; ++i)
      p.push_back(static_cast<TokenId>(260 + (r * 31 + i * 7) % 300));
    prompts.push_back(p);
    sinks.push_back(std::make_shared<CollectingSink>());
    ASSERT_TRUE((*loop)->submit(greedy(p, 10), sinks.back()).ok());
  }
  for (int r = 0; r < 7; ++r) {
    sinks[r]->wait();
    EXPECT_EQ(sinks[r]->tokens, reference_greedy(prompts[r], 10)) << "request " << r;
  }
  const EngineStats st = (*loop)->stats();
  EXPECT_EQ(st.completed, 7);
  EXPECT_EQ(st.generated_tokens, 70);
}

TEST_F(EngineLoopTest, SeededSamplingIsReproducible) {
  auto loop = EngineLoop::create(*model_, {.max_slots = 2, .ctx_per_slot = 128, .num_threads = 2});
  ASSERT_TRUE(loop.ok());
  auto run = [&](uint64_t seed) {
    GenerationRequest r = greedy({1, 280, 290}, 20);
    r.sampling.temperature = 1.0f;
    r.sampling.seed = seed;
    auto sink = std::make_shared<CollectingSink>();
    EXPECT_TRUE((*loop)->submit(std::move(r), sink).ok());
    sink->wait();
    return sink->tokens;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST_F(EngineLoopTest, StopStringsEndTheTextBeforeTheMatch) {
  auto loop = EngineLoop::create(*model_, {.max_slots = 1, .ctx_per_slot = 128, .num_threads = 1});
  ASSERT_TRUE(loop.ok());
  auto first = std::make_shared<CollectingSink>();
  ASSERT_TRUE((*loop)->submit(greedy({1, 300, 301}, 30), first).ok());
  first->wait();
  ASSERT_GE(first->text.size(), 6u);
  const std::string stop = first->text.substr(3, 3);
  GenerationRequest r = greedy({1, 300, 301}, 30);
  r.stop = {stop};
  auto second = std::make_shared<CollectingSink>();
  ASSERT_TRUE((*loop)->submit(std::move(r), second).ok());
  second->wait();
  EXPECT_EQ(second->result.reason, FinishReason::kStop);
  EXPECT_EQ(second->text, first->text.substr(0, first->text.find(stop)));
}

TEST_F(EngineLoopTest, EchoReportsPromptLogprobsWithoutGenerating) {
  auto loop = EngineLoop::create(*model_, {.max_slots = 1, .ctx_per_slot = 128, .num_threads = 1});
  ASSERT_TRUE(loop.ok());
  std::vector<TokenId> prompt;
  for (int i = 0; i < 100; ++i)
    prompt.push_back(static_cast<TokenId>(260 + i));  // > one echo chunk
  GenerationRequest r = greedy(prompt, 0);
  r.prompt_logprobs = 2;
  auto sink = std::make_shared<CollectingSink>();
  ASSERT_TRUE((*loop)->submit(std::move(r), sink).ok());
  sink->wait();
  EXPECT_EQ(sink->result.reason, FinishReason::kLength);
  EXPECT_TRUE(sink->tokens.empty());
  ASSERT_EQ(sink->prompt_logprobs.size(), 99u);
  for (size_t i = 0; i < 99; ++i) {
    EXPECT_EQ(sink->prompt_logprobs[i].chosen.id, prompt[i + 1]);
    EXPECT_LE(sink->prompt_logprobs[i].chosen.logprob, 0.0f);
    EXPECT_EQ(sink->prompt_logprobs[i].num_top, 2);
  }
}

TEST_F(EngineLoopTest, EmbeddingIsTheNormalisedMeanOfHiddenStates) {
  auto loop = EngineLoop::create(
      *model_, {.max_slots = 2, .ctx_per_slot = 128, .max_batch_tokens = 8, .num_threads = 1});
  ASSERT_TRUE(loop.ok());
  const std::vector<TokenId> prompt = {1, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310};
  GenerationRequest r;
  r.prompt = prompt;
  r.embedding = true;
  auto sink = std::make_shared<CollectingSink>();
  ASSERT_TRUE((*loop)->submit(std::move(r), sink).ok());  // 12 tokens: two chunks of at most 8
  sink->wait();
  EXPECT_EQ(sink->result.reason, FinishReason::kStop);
  EXPECT_TRUE(sink->tokens.empty());
  // The same mean computed directly.
  auto ctx = Context::create(*model_, {.ctx_size = 128, .num_threads = 1});
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < prompt.size(); ++i)
    batch.push_back({prompt[i], static_cast<int32_t>(i), 0, false, true});
  ASSERT_TRUE((*ctx)->decode(batch).ok());
  const int64_t n_embd = (*model_)->info().n_embd;
  std::vector<double> mean(n_embd, 0.0);
  for (int64_t k = 0; k < (*ctx)->num_embeddings(); ++k)
    for (int64_t i = 0; i < n_embd; ++i) mean[i] += (*ctx)->embedding(k)[i];
  double norm = 0;
  for (double v : mean) norm += v * v;
  ASSERT_EQ(sink->embedding.size(), static_cast<size_t>(n_embd));
  for (int64_t i = 0; i < n_embd; ++i)
    EXPECT_NEAR(sink->embedding[i], mean[i] / std::sqrt(norm), 1e-5);
}

TEST_F(EngineLoopTest, RejectsWhatCannotRun) {
  auto loop = EngineLoop::create(
      *model_, {.max_slots = 1, .ctx_per_slot = 32, .num_threads = 1, .max_waiting = 1});
  ASSERT_TRUE(loop.ok());
  auto sink = std::make_shared<CollectingSink>();
  std::vector<TokenId> long_prompt(40, 300);
  auto too_long = (*loop)->submit(greedy(long_prompt, 1), sink);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("32"), std::string::npos)
      << too_long.status().message();
  EXPECT_FALSE((*loop)->submit(greedy({}, 1), sink).ok());
  EXPECT_FALSE((*loop)->submit(greedy({100000}, 1), sink).ok());
  GenerationRequest bad = greedy({1}, 1);
  bad.sampling.top_p = 2.0f;
  EXPECT_FALSE((*loop)->submit(std::move(bad), sink).ok());
}

TEST_F(EngineLoopTest, CancelFinishesRunningAndWaitingRequests) {
  auto loop = EngineLoop::create(*model_, {.max_slots = 1, .ctx_per_slot = 128, .num_threads = 1});
  ASSERT_TRUE(loop.ok());
  // The running request's first token holds the engine thread until both cancels are made, so
  // it cannot finish first however the threads are scheduled.
  class GatedSink : public CollectingSink {
   public:
    void on_token(TokenId t, std::string_view piece, const TokenLogprobs* lp) override {
      std::unique_lock<std::mutex> lock(gate_mu);
      gate_cv.wait(lock, [&] { return open; });
      lock.unlock();
      CollectingSink::on_token(t, piece, lp);
    }
    void release() {
      std::lock_guard<std::mutex> lock(gate_mu);
      open = true;
      gate_cv.notify_all();
    }
    std::mutex gate_mu;
    std::condition_variable gate_cv;
    bool open = false;
  };
  auto running = std::make_shared<GatedSink>();
  auto waiting = std::make_shared<CollectingSink>();
  auto id1 = (*loop)->submit(greedy({1, 300}, 120), running);
  auto id2 = (*loop)->submit(greedy({1, 301}, 120), waiting);
  ASSERT_TRUE(id1.ok() && id2.ok());
  (*loop)->cancel(*id2);
  (*loop)->cancel(*id1);
  running->release();
  running->wait();
  waiting->wait();
  EXPECT_EQ(running->result.reason, FinishReason::kCancelled);
  EXPECT_EQ(waiting->result.reason, FinishReason::kCancelled);
  EXPECT_TRUE(waiting->tokens.empty());
}

TEST_F(EngineLoopTest, DestructionFinishesEverything) {
  auto sink = std::make_shared<CollectingSink>();
  {
    auto loop =
        EngineLoop::create(*model_, {.max_slots = 1, .ctx_per_slot = 128, .num_threads = 1});
    ASSERT_TRUE(loop.ok());
    ASSERT_TRUE((*loop)->submit(greedy({1, 300}, 120), sink).ok());
  }
  EXPECT_TRUE(sink->done);
}

}  // namespace
}  // namespace inferd
