// Test support for EngineLoop tests: a sink that records a request's events, and a fixture
// with a small random-weight model and a direct greedy reference.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "inferd/engine_loop.h"
#include "model/synth_model.h"
#include "testing/test_paths.h"

namespace inferd {

// Collects one request's events and lets the test wait for the end.
class CollectingSink : public GenerationSink {
 public:
  void on_prompt_logprobs(std::span<const TokenLogprobs> lp) override {
    std::lock_guard<std::mutex> lock(mu_);
    prompt_logprobs.assign(lp.begin(), lp.end());
  }
  void on_embedding(std::span<const float> e) override {
    std::lock_guard<std::mutex> lock(mu_);
    embedding.assign(e.begin(), e.end());
  }
  void on_token(TokenId token, std::string_view piece, const TokenLogprobs* lp) override {
    std::lock_guard<std::mutex> lock(mu_);
    tokens.push_back(token);
    text += piece;
    if (lp) logprobs.push_back(*lp);
  }
  void on_finish(const GenerationResult& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    text += r.tail_text;
    result = r;
    done = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done; });
  }

  std::vector<TokenId> tokens;
  std::string text;
  std::vector<TokenLogprobs> logprobs, prompt_logprobs;
  std::vector<float> embedding;
  GenerationResult result;
  bool done = false;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

class EngineLoopTest : public ::testing::Test {
 protected:
  // The shape of the tests' random-weight models.
  static model::SynthOptions synth_options(backend::DType type) {
    model::SynthOptions o;
    o.dim = 64;
    o.layers = 2;
    o.heads = 4;
    o.kv_heads = 2;
    o.ffn = 128;
    o.vocab = 600;
    o.context = 128;
    o.type = type;
    return o;
  }

  static void SetUpTestSuite() {
    path_ = new std::string((::inferd::testing::temp_dir() / "engine.gguf").string());
    ASSERT_TRUE(model::write_synth_model(synth_options(backend::DType::kQ8_0), *path_).ok());
    auto m = Model::load(*path_);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    model_ = new std::shared_ptr<const Model>(*m);
  }
  static void TearDownTestSuite() {
    delete model_;
    delete path_;
  }

  static GenerationRequest greedy(std::vector<TokenId> prompt, int64_t max_tokens) {
    GenerationRequest r;
    r.prompt = std::move(prompt);
    r.sampling.temperature = 0.0f;
    r.max_tokens = max_tokens;
    r.ignore_eos = true;
    return r;
  }

  // Greedy continuation computed directly with a Context, one token at a time.
  static std::vector<TokenId> reference_greedy(const std::vector<TokenId>& prompt, int n) {
    auto ctx = Context::create(*model_, {.ctx_size = 128, .num_threads = 1});
    std::vector<BatchEntry> batch;
    for (size_t i = 0; i < prompt.size(); ++i)
      batch.push_back({prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size()});
    EXPECT_TRUE((*ctx)->decode(batch).ok());
    std::vector<TokenId> out;
    for (int i = 0; i < n; ++i) {
      auto l = (*ctx)->logits(0);
      const TokenId t = static_cast<TokenId>(std::max_element(l.begin(), l.end()) - l.begin());
      out.push_back(t);
      const BatchEntry e{t, static_cast<int32_t>(prompt.size() + i), 0, true};
      EXPECT_TRUE((*ctx)->decode({&e, 1}).ok());
    }
    return out;
  }

  static inline std::string* path_ = nullptr;
  static inline std::shared_ptr<const Model>* model_ = nullptr;
};


}  // namespace inferd
