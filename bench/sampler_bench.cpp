// Cost of one sampling step at a large vocabulary (Qwen2's 152064), per configuration.
// Run: build/release/bench/sampler_bench
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "inferd/sampler.h"
#include "inferd/token_logprobs.h"

namespace inferd {
namespace {

constexpr int kVocab = 152064;

const std::vector<float>& logits() {
  static const std::vector<float> v = [] {
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 2.5f);
    std::vector<float> out(kVocab);
    for (float& x : out) x = normal(rng);
    return out;
  }();
  return v;
}

void run(benchmark::State& state, SamplingParams p) {
  p.seed = 7;
  Sampler s(p, kVocab);
  for (int i = 0; i < 512; ++i) s.accept(static_cast<TokenId>((i * 7919) % kVocab));
  for (auto _ : state) benchmark::DoNotOptimize(s.sample(logits()));
  state.SetItemsProcessed(state.iterations());
}

void BM_Greedy(benchmark::State& state) {
  SamplingParams p;
  p.temperature = 0.0f;
  run(state, p);
}
void BM_Temperature(benchmark::State& state) {
  SamplingParams p;
  p.temperature = 0.8f;
  run(state, p);
}
void BM_TopK40(benchmark::State& state) {
  SamplingParams p;
  p.top_k = 40;
  run(state, p);
}
void BM_TopP095(benchmark::State& state) {
  SamplingParams p;
  p.top_p = 0.95f;
  run(state, p);
}
void BM_MinP005(benchmark::State& state) {
  SamplingParams p;
  p.min_p = 0.05f;
  run(state, p);
}
void BM_PenaltiesTopKTopP(benchmark::State& state) {
  SamplingParams p;
  p.repetition_penalty = 1.1f;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.5f;
  p.top_k = 40;
  p.top_p = 0.9f;
  run(state, p);
}
void BM_GreedyWithTop5Logprobs(benchmark::State& state) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.num_top_logprobs = 5;
  run(state, p);
}
void BM_TokenLogprobsTop20(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(token_logprobs(logits(), 5, 20));
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Greedy);
BENCHMARK(BM_Temperature);
BENCHMARK(BM_TopK40);
BENCHMARK(BM_TopP095);
BENCHMARK(BM_MinP005);
BENCHMARK(BM_PenaltiesTopKTopP);
BENCHMARK(BM_GreedyWithTop5Logprobs);
BENCHMARK(BM_TokenLogprobsTop20);

}  // namespace
}  // namespace inferd

BENCHMARK_MAIN();
