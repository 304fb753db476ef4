// Decode speed with and without a structured-output mask. Each iteration decodes one token with a
// Context on a fixture model (random weights, real vocabulary) and samples it at temperature 1;
// the masked variants copy the logits, apply a TokenConstraint, sample, and accept the token,
// starting a new constraint whenever the output is complete (as a stream of requests would; the
// per-model grammar cache is warm, as it is for every request after the first with a schema).
// BM_MaskOnly replays a recorded constrained trajectory through apply()+accept() alone: the
// mask's own cost per token.
//
// Model: $INFERD_BENCH_MODEL, else ../shared/fixtures/fixture-qwen2-q8_0.gguf (or below
// $INFERD_SHARED_DIR). Threads: $INFERD_BENCH_THREADS (default 2).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "inferd/engine.h"
#include "inferd/sampler.h"
#include "inferd/structured_output.h"

namespace inferd {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;
using MakeConstraint = std::function<Result<std::unique_ptr<TokenConstraint>>(const Model&)>;

std::string model_path() {
  if (const char* env = std::getenv("INFERD_BENCH_MODEL"); env && *env) return env;
  std::filesystem::path shared =
      std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "shared";
  if (const char* env = std::getenv("INFERD_SHARED_DIR"); env && *env) shared = env;
  return (shared / "fixtures" / "fixture-qwen2-q8_0.gguf").string();
}

int bench_threads() {
  const char* env = std::getenv("INFERD_BENCH_THREADS");
  return env && *env ? std::atoi(env) : 2;
}

const std::shared_ptr<const Model>& model() {
  static const std::shared_ptr<const Model> m = [] {
    auto r = Model::load(model_path());
    if (!r.ok()) {
      std::fprintf(stderr, "structured_output_bench: %s\n", r.status().to_string().c_str());
      std::exit(1);
    }
    return *r;
  }();
  return m;
}

const Json& schema() {
  static const Json s = Json::parse(R"({"type":"object","properties":{
      "name":{"type":"string","maxLength":40},"age":{"type":"integer","minimum":0,"maximum":150},
      "tags":{"type":"array","items":{"type":"string","maxLength":20},"maxItems":8},
      "address":{"type":"object","properties":{"city":{"type":"string","maxLength":20},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},
                 "required":["city","zip"]}},"required":["name","age","tags","address"]})");
  return s;
}

MakeConstraint schema_constraint() {
  return [](const Model& m) { return json_schema_constraint(m, schema()); };
}
MakeConstraint object_constraint() {
  return [](const Model& m) { return json_object_constraint(m); };
}

std::unique_ptr<TokenConstraint> must(Result<std::unique_ptr<TokenConstraint>> r) {
  if (!r.ok()) {
    std::fprintf(stderr, "structured_output_bench: %s\n", r.status().to_string().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

// Samples `n` complete outputs uniformly among allowed tokens: fills the grammar cache as
// earlier requests would have.
void warm_up(const Model& m, const MakeConstraint& make, int n) {
  SamplingParams params;
  params.temperature = 1.0f;
  params.seed = 3;
  Sampler sampler(params, static_cast<int>(m.vocab_size()));
  std::vector<float> logits(static_cast<size_t>(m.vocab_size()));
  for (int i = 0; i < n; ++i) {
    auto c = must(make(m));
    for (int k = 0; k < 2000 && !c->is_finished(); ++k) {
      std::fill(logits.begin(), logits.end(), 0.0f);
      c->apply(logits);
      const TokenId t = sampler.sample(logits);
      if (!c->accept(t).ok() || m.is_end_of_generation(t)) break;
    }
  }
}

// Decodes and samples one token per iteration; `make` null = no constraint.
void decode(benchmark::State& state, const MakeConstraint& make) {
  const auto& m = model();
  constexpr int64_t kCtx = 2048;
  auto ctx = Context::create(m, {.ctx_size = kCtx, .max_seqs = 1, .num_threads = bench_threads()});
  if (!ctx.ok()) {
    state.SkipWithError(ctx.status().to_string().c_str());
    return;
  }
  const std::vector<TokenId> prompt = m->tokenize("Answer in JSON:", true);
  std::vector<BatchEntry> batch;
  for (size_t i = 0; i < prompt.size(); ++i)
    batch.push_back({prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size()});
  SamplingParams params;
  params.temperature = 1.0f;
  params.seed = 7;
  Sampler sampler(params, static_cast<int>(m->vocab_size()));
  std::vector<float> masked(static_cast<size_t>(m->vocab_size()));
  std::unique_ptr<TokenConstraint> constraint;
  if (make) {
    warm_up(*m, make, 3);
    constraint = must(make(*m));
  }
  int64_t pos = 0;
  int64_t outputs = 0;
  TokenId next = 0;
  auto restart = [&] {  // a fresh prompt when the context is full
    if (!(*ctx)->decode(batch).ok()) std::abort();
    pos = static_cast<int64_t>(prompt.size());
  };
  restart();
  bool have_logits = true;
  double mask_s = 0, sample_s = 0;
  for (auto _ : state) {
    if (!have_logits) {
      const BatchEntry e{next, static_cast<int32_t>(pos++), 0, true};
      if (!(*ctx)->decode({&e, 1}).ok()) std::abort();
    }
    std::span<const float> view = (*ctx)->logits(0);
    const auto t0 = Clock::now();
    if (constraint) {
      std::copy(view.begin(), view.end(), masked.begin());
      constraint->apply(masked);
      view = masked;
    }
    const auto t1 = Clock::now();
    next = sampler.sample(view);
    sampler.accept(next);
    const auto t2 = Clock::now();
    mask_s += std::chrono::duration<double>(t1 - t0).count();
    sample_s += std::chrono::duration<double>(t2 - t1).count();
    if (constraint) {
      const bool eog = m->is_end_of_generation(next);
      const auto t3 = Clock::now();
      if (!constraint->accept(next).ok() && !eog) std::abort();
      mask_s += std::chrono::duration<double>(Clock::now() - t3).count();
      if (eog || constraint->is_finished()) {
        constraint = must(make(*m));  // the next request
        ++outputs;
      }
    }
    have_logits = false;
    if (pos + 1 >= kCtx) {
      state.PauseTiming();
      restart();
      have_logits = true;
      state.ResumeTiming();
    }
  }
  state.counters["tokens_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  if (make) state.counters["outputs"] = static_cast<double>(outputs);
  const double n = static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["mask_us"] = 1e6 * mask_s / n;  // copy + apply + accept, per token
  state.counters["sample_us"] = 1e6 * sample_s / n;
}

void BM_DecodeUnconstrained(benchmark::State& state) {
  decode(state, nullptr);
}
void BM_DecodeJsonSchema(benchmark::State& state) {
  decode(state, schema_constraint());
}
void BM_DecodeJsonObject(benchmark::State& state) {
  decode(state, object_constraint());
}

// Tokens of complete constrained outputs (sampled uniformly among allowed tokens), then the
// mask alone along them.
void mask_only(benchmark::State& state, const MakeConstraint& make) {
  const auto& m = model();
  std::vector<std::vector<TokenId>> outputs;
  SamplingParams params;
  params.temperature = 1.0f;
  params.seed = 11;
  Sampler sampler(params, static_cast<int>(m->vocab_size()));
  std::vector<float> logits(static_cast<size_t>(m->vocab_size()));
  size_t total = 0;
  while (total < 4000) {
    auto c = must(make(*m));
    std::vector<TokenId> out;
    while (!c->is_finished() && out.size() < 2000) {
      std::fill(logits.begin(), logits.end(), 0.0f);
      c->apply(logits);
      const TokenId t = sampler.sample(logits);
      if (!c->accept(t).ok()) std::abort();
      out.push_back(t);
      if (m->is_end_of_generation(t)) break;
    }
    total += out.size();
    outputs.push_back(std::move(out));
  }
  std::vector<float> scratch(logits.size(), 0.0f);
  size_t which = 0, at = 0;
  auto c = must(make(*m));
  for (auto _ : state) {
    if (at == outputs[which].size()) {
      state.PauseTiming();
      which = (which + 1) % outputs.size();
      at = 0;
      c = must(make(*m));
      state.ResumeTiming();
    }
    c->apply(scratch);
    benchmark::DoNotOptimize(scratch.data());
    if (!c->accept(outputs[which][at++]).ok()) std::abort();
  }
  state.counters["tokens_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_MaskOnlyJsonSchema(benchmark::State& state) {
  mask_only(state, schema_constraint());
}
void BM_MaskOnlyJsonObject(benchmark::State& state) {
  mask_only(state, object_constraint());
}

BENCHMARK(BM_DecodeUnconstrained)->Unit(benchmark::kMicrosecond)->MinTime(3.0);
BENCHMARK(BM_DecodeJsonSchema)->Unit(benchmark::kMicrosecond)->MinTime(3.0);
BENCHMARK(BM_DecodeJsonObject)->Unit(benchmark::kMicrosecond)->MinTime(3.0);
BENCHMARK(BM_MaskOnlyJsonSchema)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MaskOnlyJsonObject)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace inferd

BENCHMARK_MAIN();
